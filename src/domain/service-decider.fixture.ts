// The service decider run over a history, for the domain's tests: the decision, or straight to
// the events of an accepted command or the error of a rejected one.
import { fold } from './decider.js';
import type { BerthEvent } from './events.js';
import { serviceDecider, type ServiceCommand } from './service.js';

export const decide = (history: BerthEvent[], command: ServiceCommand) => serviceDecider.decide(command, fold(serviceDecider, history));

/** The events of an accepted command; throws when it is rejected. */
export const events = (history: BerthEvent[], command: ServiceCommand) => {
  const decision = decide(history, command);
  if (!decision.ok) throw new Error(`rejected: ${decision.error.message}`);
  return decision.value;
};

/** The error of a rejected command; throws when it is accepted. */
export const rejection = (history: BerthEvent[], command: ServiceCommand) => {
  const decision = decide(history, command);
  if (decision.ok) throw new Error(`accepted: ${JSON.stringify(decision.value)}`);
  return decision.error;
};
