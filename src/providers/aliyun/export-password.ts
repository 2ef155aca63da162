/**
 * The one-off IMAP password the backup logs in with. Alibaba Mail has no master-user login and no
 * raw-message endpoint, so the backup resets the leaver's password to a random one, uses it in
 * memory for this one export, and forgets it: it is never logged, stored or shown (see
 * docs/design.md, "Alibaba Mail").
 */
import { randomInt } from 'node:crypto';

const CLASSES = ['abcdefghijkmnopqrstuvwxyz', 'ABCDEFGHJKLMNPQRSTUVWXYZ', '23456789', '!#%+-=_.'];
const LENGTH = 24;

/** 24 characters with every class present (the console's rule needs three of four). */
export function randomExportPassword(): string {
  const all = CLASSES.join('');
  const chars = CLASSES.map((set) => set[randomInt(set.length)]!);
  while (chars.length < LENGTH) chars.push(all[randomInt(all.length)]!);
  for (let i = chars.length - 1; i > 0; i--) {
    const j = randomInt(i + 1);
    [chars[i], chars[j]] = [chars[j]!, chars[i]!];
  }
  return chars.join('');
}
