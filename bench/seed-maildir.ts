/**
 * Seeds a Dovecot Maildir by writing message files directly into `cur/`: APPEND runs at roughly
 * 500-800 messages/s (shared/mail-server.md), far too slow for 40,000-message benchmarks, while
 * writing files is bounded by the disk. Dovecot assigns UIDs when it first scans the folder.
 */
import { chown, mkdir, open, utimes } from 'node:fs/promises';
import path from 'node:path';
import { mulberry32 } from './lib/random.js';

export interface SeedFolder {
  /** IMAP name with '/' as the hierarchy separator (the sandbox namespace's separator). */
  name: string;
  /** Share of all messages that land in this folder. */
  share: number;
}

/** A mix that looks like a real mailbox, including a parent that exists only as a hierarchy level. */
export const DEFAULT_SEED_FOLDERS: SeedFolder[] = [
  { name: 'INBOX', share: 0.45 },
  { name: 'Sent', share: 0.15 },
  { name: 'Archive/2023', share: 0.2 },
  { name: 'Archive/2024', share: 0.1 },
  { name: 'Lists/dev', share: 0.07 },
  { name: 'Trash', share: 0.03 },
];

export interface SeedOptions {
  /** The user's Maildir root, e.g. `<dovecot dir>/mail/example.test/alice/Maildir`. */
  maildir: string;
  messages: number;
  folders?: SeedFolder[];
  seed?: number;
  /** Owner to chown every directory and file to (Dovecot's mail_uid when running as root). */
  owner?: { uid: number; gid: number } | undefined;
}

export interface SeedResult {
  messages: number;
  bytes: number;
  perFolder: Record<string, number>;
  /** Messages whose body contains a line starting with "From " (they need mboxrd quoting). */
  withFromLines: number;
}

const prng = mulberry32;

const WORDS = (
  'the quarterly report is attached please review before friday meeting budget invoice project ' +
  'schedule customer contract delivery update team review notes server migration backup mailbox ' +
  'forwarding approval offboarding we should discuss next steps thanks regards status question ' +
  'deadline release ticket incident resolved pending follow up agenda minutes draft final version'
).split(' ');

const NAMES = ['Bob Jones', 'Carol White', 'Dave Smith', 'Eve Müller', 'Frank Zhang', 'Grace Hopper', 'Heidi Klum'];

function textLines(rand: () => number, bytes: number): string[] {
  const lines: string[] = [];
  let size = 0;
  while (size < bytes) {
    let line = '';
    const target = 40 + Math.floor(rand() * 36);
    while (line.length < target) line += (line ? ' ' : '') + WORDS[Math.floor(rand() * WORDS.length)];
    lines.push(line);
    size += line.length + 1;
  }
  return lines;
}

function base64Block(rand: () => number, bytes: number): string[] {
  const raw = Buffer.alloc(Math.floor((bytes * 3) / 4));
  for (let i = 0; i < raw.length; i++) raw[i] = Math.floor(rand() * 256);
  return raw.toString('base64').match(/.{1,76}/g) ?? [];
}

/** One message as stored by Dovecot's LDA/LMTP: LF line endings (IMAP turns them into CRLF). */
export function makeMessage(index: number, rand: () => number, folder: string, date: Date): { text: string; fromLines: boolean } {
  const sender = NAMES[index % NAMES.length]!;
  const senderAddr = `${sender.split(' ')[0]!.toLowerCase().replace('ü', 'u')}@partner${index % 5}.test`;
  const sent = folder === 'Sent';
  const from = sent ? 'Alice Example <alice@example.test>' : `${sender} <${senderAddr}>`;
  const to = sent ? `${sender} <${senderAddr}>` : 'Alice Example <alice@example.test>';
  const target = 2048 + Math.floor(rand() * 6144);
  const headers = [
    `Return-Path: <${sent ? 'alice@example.test' : senderAddr}>`,
    'Delivered-To: alice@example.test',
    `Received: from mx${index % 3}.partner.test (mx${index % 3}.partner.test [192.0.2.${index % 250}])\n\tby mx.example.test with LMTP id ${index.toString(16)}\n\tfor <alice@example.test>; ${date.toUTCString()}`,
    `From: ${from}`,
    `To: ${to}`,
    `Subject: ${WORDS[index % WORDS.length]} ${WORDS[(index * 7) % WORDS.length]} #${index}`,
    `Date: ${date.toUTCString()}`,
    `Message-ID: <seed.${index}.${Math.floor(rand() * 1e9)}@partner.test>`,
    'MIME-Version: 1.0',
  ];
  let fromLines = false;
  let body: string[];
  const kind = rand();
  if (kind < 0.25) {
    const boundary = `b-${index}-${Math.floor(rand() * 1e9)}`;
    headers.push(`Content-Type: multipart/mixed; boundary="${boundary}"`);
    const text = textLines(rand, Math.floor(target * 0.3));
    body = [
      'This is a multi-part message in MIME format.',
      `--${boundary}`,
      'Content-Type: text/plain; charset=utf-8',
      '',
      ...text,
      `--${boundary}`,
      'Content-Type: application/octet-stream; name="data.bin"',
      'Content-Transfer-Encoding: base64',
      'Content-Disposition: attachment; filename="data.bin"',
      '',
      ...base64Block(rand, Math.floor(target * 0.6)),
      `--${boundary}--`,
    ];
  } else {
    headers.push('Content-Type: text/plain; charset=utf-8', 'Content-Transfer-Encoding: 8bit');
    body = textLines(rand, target - 600);
    if (kind > 0.9) {
      // The lines mboxrd must quote, and an already-quoted one that must gain exactly one more '>'.
      fromLines = true;
      const at = Math.floor(rand() * body.length);
      body.splice(at, 0, 'From the desk of the CFO: numbers below.', '>From a quoted reply', '');
      if (kind > 0.97) body.push('From ');
    }
  }
  return { text: `${headers.join('\n')}\n\n${body.join('\n')}\n`, fromLines };
}

/** Maildir++ keeps every folder one level below the root, with '.' as its hierarchy separator. */
function folderDir(maildir: string, name: string): string {
  return name === 'INBOX' ? maildir : path.join(maildir, `.${name.split('/').join('.')}`);
}

/** mkdir -p that also hands every directory it created (not just the last) to the mail owner. */
async function makeDir(dir: string, owner: SeedOptions['owner']): Promise<void> {
  const first = await mkdir(dir, { recursive: true, mode: 0o700 });
  if (!owner || first === undefined) return;
  for (let at = dir; ; at = path.dirname(at)) {
    await chown(at, owner.uid, owner.gid);
    if (at === first || at === path.dirname(at)) break;
  }
}

export async function seedMaildir(options: SeedOptions): Promise<SeedResult> {
  const folders = options.folders ?? DEFAULT_SEED_FOLDERS;
  const rand = prng(options.seed ?? 42);
  const owner = options.owner;
  // The user's home (…/<domain>/<user>) and the domain directory must belong to the mail uid too.
  await makeDir(options.maildir, owner);
  for (const folder of folders) {
    const dir = folderDir(options.maildir, folder.name);
    await makeDir(dir, owner);
    for (const sub of ['cur', 'new', 'tmp']) await makeDir(path.join(dir, sub), owner);
  }

  const totalShare = folders.reduce((sum, f) => sum + f.share, 0);
  const plan: string[] = [];
  folders.forEach((folder, i) => {
    const count =
      i === folders.length - 1
        ? options.messages - plan.length
        : Math.round((options.messages * folder.share) / totalShare);
    for (let n = 0; n < count && plan.length < options.messages; n++) plan.push(folder.name);
  });

  const result: SeedResult = { messages: 0, bytes: 0, perFolder: {}, withFromLines: 0 };
  const start = Date.UTC(2023, 0, 1) / 1000;
  const span = 2 * 365 * 24 * 3600;
  let next = 0;
  // Enough parallel writes to keep the thread pool busy; ordering inside a folder does not matter
  // because Dovecot orders UIDs by its own directory scan.
  const worker = async () => {
    for (;;) {
      const index = next++;
      if (index >= plan.length) return;
      const folder = plan[index]!;
      const seconds = start + Math.floor((index / plan.length) * span);
      const date = new Date(seconds * 1000);
      const { text, fromLines } = makeMessage(index, rand, folder, date);
      const data = Buffer.from(text, 'utf8');
      // Dovecot trusts S= as the physical size; a wrong value is reported as index corruption.
      const name = `${seconds}.M${index}P${process.pid}.seed,S=${data.length}:2,S`;
      const file = path.join(folderDir(options.maildir, folder), 'cur', name);
      const handle = await open(file, 'w', 0o600);
      try {
        await handle.write(data);
        if (owner) await handle.chown(owner.uid, owner.gid);
      } finally {
        await handle.close();
      }
      // Maildir's INTERNALDATE is the file's mtime.
      await utimes(file, date, date);
      result.messages++;
      result.bytes += data.length;
      result.perFolder[folder] = (result.perFolder[folder] ?? 0) + 1;
      if (fromLines) result.withFromLines++;
    }
  };
  await Promise.all(Array.from({ length: 32 }, worker));
  return result;
}
