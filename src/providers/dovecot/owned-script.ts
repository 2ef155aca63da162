/**
 * Forwarding and auto-reply live in a Sieve script Postmaster owns ("postmaster"). It becomes the
 * active script and includes the one that was active before, so the user's own rules keep acting,
 * and Postmaster never edits the user's script. When nothing of Postmaster's is left, the user's
 * script is made active again and ours is deleted: the mailbox is exactly as it was.
 */
import { PostmasterError } from '../../core/errors.js';
import type { ForwardingState } from '../../core/mailbox.js';
import type { ForwardingEdgeReading, ForwardingReading } from '../../core/provider.js';
import { countRedirects, extractForwarding, type ForwardingResult } from './sieve/forwarding.js';
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
  /**
   * The user's script read once (includes followed): what it forwards and whether it has its own
   * vacation, or why it cannot be read. Undefined when there is no user script.
   */
  userScript: ForwardingResult | { error: string } | undefined;
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
  return { state, userScriptText, userScript: userScriptText === undefined ? undefined : readUserScript(userScriptText, state.userScript!, texts) };
}

function readUserScript(text: string, name: string, texts: Map<string, string>): ForwardingResult | { error: string } {
  try {
    return extractForwarding(text, { loadInclude: (included) => texts.get(included), scriptName: name });
  } catch (error) {
    return { error: `Sieve script "${name}" cannot be read: ${(error as Error).message}` };
  }
}

/** The user's script when it runs (not suspended) and could be read. */
function activeUserForwarding(situation: ScriptSituation): ForwardingResult | undefined {
  const user = situation.userScript;
  return user && !('error' in user) && !situation.state.userScriptSuspended ? user : undefined;
}

/** Applies a change to Postmaster's state and makes the server match it. */
export async function updateState(scripts: SieveScripts, change: (state: PostmasterSieveState) => PostmasterSieveState): Promise<void> {
  const situation = await readSituation(scripts);
  const changed = change(situation.state);
  const { userScriptSuspended: _previous, ...rest } = changed;
  const user = situation.userScript;
  const userHasVacation = Boolean(user && !('error' in user) && user.hasVacation);
  const next: PostmasterSieveState = userHasVacation && changed.autoReply ? { ...rest, userScriptSuspended: true } : rest;
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

/** Everything the mailbox forwards, Postmaster's and the user's own (the mailbox view's summary). */
export function forwardingOf(situation: ScriptSituation): ForwardingState | undefined {
  // An unreadable user script adds nothing here (it is an audit finding of its own).
  const edges = edgesOf(situation);
  if (edges.length === 0) return undefined;
  const user = activeUserForwarding(situation);
  return {
    targets: [...new Set(edges.map((e) => e.target))],
    keepCopy: (situation.state.forward?.keepCopy ?? true) && (user?.redirects.every((r) => r.copy) ?? true),
    managed: edges.every((e) => e.source === 'postmaster'),
    expiresAt: situation.state.forward?.expiresAt,
  };
}

/** Every forwarding edge of the mailbox, Postmaster's and the owner's, or why it cannot be read. */
export function readingOf(mailbox: string, situation: ScriptSituation): ForwardingReading {
  const { state } = situation;
  if (situation.userScript && 'error' in situation.userScript && !state.userScriptSuspended) {
    return { mailbox, readable: false, error: situation.userScript.error };
  }
  return { mailbox, readable: true, edges: edgesOf(situation) };
}

function edgesOf(situation: ScriptSituation): ForwardingEdgeReading[] {
  const { state } = situation;
  const edges: ForwardingEdgeReading[] = [];
  for (const target of state.forward?.targets ?? []) edges.push({ target: target.toLowerCase(), conditional: false, source: 'postmaster' });
  for (const rule of state.rules ?? []) {
    const condition = [...(rule.senderContains ?? []).map((v) => `from contains "${v}"`), ...(rule.subjectContains ?? []).map((v) => `subject contains "${v}"`)].join(rule.match === 'all' ? ' and ' : ' or ');
    // A rule without conditions forwards every message: an unconditional edge, like the mailbox forward.
    const conditional = condition !== '';
    for (const target of rule.targets) edges.push({ target: target.toLowerCase(), conditional, source: 'postmaster', ruleId: rule.id, ...(conditional ? { condition } : {}) });
  }
  for (const r of activeUserForwarding(situation)?.redirects ?? []) {
    edges.push({ target: r.target.toLowerCase(), conditional: r.conditional, source: 'user', condition: r.condition });
  }
  return edges;
}

/** Redirects the user's own script performs: they count against MAXREDIRECTS too. */
export function unmanagedRedirects(situation: ScriptSituation): number {
  const user = activeUserForwarding(situation);
  return user ? countRedirects(user) : 0;
}
