/**
 * Where each request's Slack messages are: the request message in the approvals channel (whose
 * thread gets the progress) and the thread message of each step, so a later event edits the same
 * message, also after a restart. Stored in the 'slack-messages' namespace of the shared store.
 */
import type { Store } from '../store/open-store.js';
import type { Collection } from '../store/collection.js';
import type { StepName, StepStatus } from '../core/offboarding/model.js';

export interface RequestMessageRecord {
  requestId: string;
  channel: string;
  /** ts of the request message; its thread holds the progress. */
  ts: string;
  requestedBy: string;
  /** ts of each step's thread message, and the status it last showed. */
  steps: Partial<Record<StepName, { ts: string; shown: StepStatus }>>;
}

export class RequestMessages {
  private readonly collection: Collection<RequestMessageRecord>;

  constructor(store: Pick<Store, 'collection'>) {
    this.collection = store.collection<RequestMessageRecord>('slack-messages');
  }

  get(requestId: string): Promise<RequestMessageRecord | undefined> {
    return this.collection.get(requestId);
  }

  async remember(record: Omit<RequestMessageRecord, 'steps'>): Promise<void> {
    await this.collection.set(record.requestId, { ...record, steps: {} });
  }

  async stepShown(requestId: string, step: StepName, shown: { ts: string; shown: StepStatus }): Promise<void> {
    await this.collection.update(requestId, (current) => ({ ...current, steps: { ...current.steps, [step]: shown } }));
  }
}
