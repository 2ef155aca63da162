/**
 * Removing a forward from Slack, by the id a listing shows: a rule (fw-…) is removed; for an
 * offboarding (ob-…) its forward ends early. The core checks who may, and audits a refusal.
 */
import type { ForwardingService } from '../core/forwarding/service.js';
import { isRequestId } from '../core/offboarding/service.js';
import { forwardEndedMessage, forwardRemovedMessage } from './blocks/forward.js';
import type { MessageContent } from './blocks/request-message.js';

export async function removeForward(forwarding: ForwardingService, user: string, id: string): Promise<MessageContent> {
  if (isRequestId(id)) return forwardEndedMessage(await forwarding.endOffboardingForward(user, id));
  return forwardRemovedMessage(await forwarding.removeRule(user, id));
}
