import { eventStoreContract } from './event-store.case.js';
import { openPgliteDriver } from './pglite-driver.js';

eventStoreContract('PGlite (in memory)', { open: () => openPgliteDriver(), concurrentTransactions: false });
