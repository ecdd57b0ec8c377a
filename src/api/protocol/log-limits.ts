// Limits of the log protocol, apart from its schemas so the agent can use them without loading zod.
export const MAX_TAIL = 10_000;
export const MAX_BATCH = 1_000;
