/**
 * Forwarding and auto-reply live in a Sieve script Postmaster owns ("postmaster"). It becomes the
 * active script and includes the one that was active before, so the user's own rules keep acting,
 * and Postmaster never edits the user's script. When nothing of Postmaster's is left, the user's
 * script is made active again and ours is deleted: the mailbox is exactly as it was.
 */
import { PostmasterError } from '../../core/errors.js';
import type { ForwardingState } from '../../core/mailbox.js';
import type { ForwardingEdgeReading, ForwardingReading } from '../../core/provider.js';
import { extractForwarding, countRedirects } from './sieve/forwarding.js';
import {
  isEmptyState,
  parsePostmasterScript,
  POSTMASTER_SCRIPT_NAME,
  renderPostmasterScript,
  type PostmasterSieveState,
} from './sieve/postmaster-script.js';
import type { SieveScripts } from './sieve-scripts.js';

export interface ScriptSituation {
  state: PostmasterSieveState;
  /** Text of the user's own script (the one ours includes), when there is one. */
  userScriptText: string | undefined;
  /** Every other script of the mailbox, by name, for following `include`. */
  texts: Map<string, string>;
}

/** Reads where the mailbox stands: Postmaster's state, and the user's script it sits on top of. */
export async function readSituation(scripts: SieveScripts): Promise<ScriptSituation> {
  const list = await scripts.list();
  const active = list.find((s) => s.active);
  const ours = list.find((s) => s.name === POSTMASTER_SCRIPT_NAME);
  let state: PostmasterSieveState = { userScript: null };
  if (ours) {
    const parsed = parsePostmasterScript(await scripts.get(POSTMASTER_SCRIPT_NAME));
    if (!parsed) {
      throw new PostmasterError('Conflict', `the mailbox has a Sieve script named "${POSTMASTER_SCRIPT_NAME}" that Postmaster did not write`, {
        hint: 'rename that script, then try again',
      });
    }
    state = parsed;
  }
  // If the user activated another script since, that one is now what ours should include.
  if (active && active.name !== POSTMASTER_SCRIPT_NAME) state = { ...state, userScript: active.name };
  if (!active && ours) state = { ...state, userScript: null };
  // Scripts are few and small; reading them all lets `include` be followed without more round trips.
  const texts = new Map<string, string>();
  for (const script of list) if (script.name !== POSTMASTER_SCRIPT_NAME) texts.set(script.name, await scripts.get(script.name));
  const userScriptText = state.userScript ? texts.get(state.userScript) : undefined;
  return { state, userScriptText, texts };
}

/** Applies a change to Postmaster's state and makes the server match it. */
export async function updateState(scripts: SieveScripts, change: (state: PostmasterSieveState) => PostmasterSieveState): Promise<void> {
  const situation = await readSituation(scripts);
  const changed = change(situation.state);
  const { userScriptSuspended: _previous, ...rest } = changed;
  const next: PostmasterSieveState = userScriptHasVacation(situation) && changed.autoReply ? { ...rest, userScriptSuspended: true } : rest;
  const list = await scripts.list();
  const oursExists = list.some((s) => s.name === POSTMASTER_SCRIPT_NAME);
  if (isEmptyState(next)) {
    await scripts.activate(next.userScript);
    if (oursExists) await scripts.remove(POSTMASTER_SCRIPT_NAME);
    return;
  }
  await scripts.put(POSTMASTER_SCRIPT_NAME, renderPostmasterScript(next));
  await scripts.activate(POSTMASTER_SCRIPT_NAME);
}

function userScriptHasVacation(situation: ScriptSituation): boolean {
  if (situation.userScriptText === undefined) return false;
  try {
    return extractForwarding(situation.userScriptText, { loadInclude: (name) => situation.texts.get(name) }).hasVacation;
  } catch {
    return false;
  }
}

/** Everything the mailbox forwards, Postmaster's and the user's own. */
export function forwardingOf(situation: ScriptSituation): ForwardingState | undefined {
  const { state, userScriptText, texts } = situation;
  const targets: string[] = [];
  let keepCopy = true;
  if (state.forward) {
    targets.push(...state.forward.targets);
    keepCopy = state.forward.keepCopy;
  }
  for (const rule of state.rules ?? []) targets.push(...rule.targets);
  let unmanaged = 0;
  if (userScriptText !== undefined && !state.userScriptSuspended) {
    try {
      const found = extractForwarding(userScriptText, { loadInclude: (name) => texts.get(name) });
      unmanaged = found.redirects.length;
      for (const redirect of found.redirects) {
        targets.push(redirect.target);
        if (!redirect.copy) keepCopy = false;
      }
    } catch {
      // An unreadable user script is an audit finding of its own; here it just adds nothing.
    }
  }
  if (targets.length === 0) return undefined;
  return {
    targets: [...new Set(targets.map((t) => t.toLowerCase()))],
    keepCopy,
    managed: unmanaged === 0,
    expiresAt: state.forward?.expiresAt,
  };
}

/** Every forwarding edge of the mailbox, Postmaster's and the owner's, or why it cannot be read. */
export function readingOf(mailbox: string, situation: ScriptSituation): ForwardingReading {
  const { state, userScriptText, texts } = situation;
  const edges: ForwardingEdgeReading[] = [];
  for (const target of state.forward?.targets ?? []) edges.push({ target: target.toLowerCase(), conditional: false, source: 'postmaster' });
  for (const rule of state.rules ?? []) {
    const condition = [...(rule.senderContains ?? []).map((v) => `from contains "${v}"`), ...(rule.subjectContains ?? []).map((v) => `subject contains "${v}"`)].join(rule.match === 'all' ? ' and ' : ' or ');
    for (const target of rule.targets) edges.push({ target: target.toLowerCase(), conditional: true, source: 'postmaster', ruleId: rule.id, condition });
  }
  if (userScriptText !== undefined && !state.userScriptSuspended) {
    try {
      const found = extractForwarding(userScriptText, { loadInclude: (name) => texts.get(name), scriptName: state.userScript ?? undefined });
      for (const r of found.redirects) edges.push({ target: r.target.toLowerCase(), conditional: r.conditional, source: 'user', condition: r.condition });
    } catch (error) {
      return { mailbox, readable: false, error: `Sieve script "${state.userScript}" cannot be read: ${(error as Error).message}` };
    }
  }
  return { mailbox, readable: true, edges };
}

/** Redirects in the user's own script (not Postmaster's): they count against MAXREDIRECTS too. */
export function unmanagedRedirects(situation: ScriptSituation): number {
  if (situation.userScriptText === undefined) return 0;
  try {
    return countRedirects(extractForwarding(situation.userScriptText, { loadInclude: (name) => situation.texts.get(name) }));
  } catch {
    return 0;
  }
}
