import { conflict } from '../core/errors.js';
import type { OffboardingRequest } from '../core/offboarding/model.js';
import type { RequestRepository } from '../core/ports.js';
import type { Store } from './open-store.js';

export function requestRepository(store: Store): RequestRepository {
  const requests = store.collection<OffboardingRequest>('requests');
  return {
    get: (id) => requests.get(id),
    async create(request) {
      if (!(await requests.insert(request.id, request))) throw conflict(`request id ${request.id} is already taken`);
    },
    update: (id, change) => requests.update(id, change),
    list: () => requests.values(),
  };
}
