import { conflict } from '../core/errors.js';
import type { ForwardingRule } from '../core/forwarding/rule.js';
import type { AuditHistory, RuleRepository } from '../core/ports.js';
import type { Finding } from '../core/findings/model.js';
import type { Store } from './open-store.js';

export function ruleRepository(store: Store): RuleRepository {
  const rules = store.collection<ForwardingRule>('rules');
  return {
    get: (id) => rules.get(id),
    list: () => rules.values(),
    async create(rule) {
      if (!(await rules.insert(rule.id, rule))) throw conflict(`rule id ${rule.id} is already taken`);
    },
    delete: (id) => rules.delete(id),
  };
}

export function auditHistory(store: Store): AuditHistory {
  const reports = store.collection<{ at: string; findings: Finding[] }>('audit-reports');
  return {
    last: () => reports.get('last'),
    record: (at, findings) => reports.set('last', { at, findings }),
  };
}
