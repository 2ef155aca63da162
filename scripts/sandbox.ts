/**
 * `npm run sandbox`: a local try-out with nothing to configure. Installs Dovecot where it can,
 * starts a throwaway Dovecot and an SMTP sink under ./data/sandbox with demo mailboxes, writes the
 * matching .env, prints how to drive it from the CLI, and runs Postmaster until Ctrl-C.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { dovecotBinary, startDovecot } from '../src/sandbox/dovecot-instance.js';
import { startSmtpSink } from '../src/sandbox/smtp-sink.js';
import { deliverLmtp } from '../src/sandbox/lmtp.js';

const ROOT = path.resolve('data/sandbox');
const ENV_MARKER = '# Written by `npm run sandbox`';
const DOMAIN = 'example.test';
const PORTS = { imap: 10143, sieve: 14190, lmtp: 10024, doveadm: 18080, smtp: 10025 };
const USERS = ['alice', 'bob', 'carol', 'dave', 'finance-ann'].map((name) => ({ address: `${name}@${DOMAIN}`, password: `${name}-pass` }));

async function ensureDovecot(): Promise<void> {
  if (await dovecotBinary()) return;
  console.log('Dovecot is not installed; installing it with apt-get…');
  try {
    execFileSync('bash', [path.resolve('scripts/install-packages.sh')], { stdio: 'inherit' });
  } catch {
    console.error('Could not install Dovecot. Install the packages above, then run `npm run sandbox` again.');
    process.exit(1);
  }
}

async function main(): Promise<void> {
  await ensureDovecot();
  await rm(ROOT, { recursive: true, force: true });
  const sink = await startSmtpSink({ port: PORTS.smtp, saveDir: path.join(ROOT, 'outbox') });
  const dovecot = await startDovecot({
    dir: path.join(ROOT, 'dovecot'),
    users: USERS,
    adminUser: 'postmaster-admin',
    submissionHost: `127.0.0.1:${PORTS.smtp}`,
    maxRedirects: 5,
    ports: PORTS,
  });
  for (let i = 1; i <= 25; i++) {
    await deliverLmtp(dovecot.ports.lmtp, { from: `customer${i}@client.test`, to: `alice@${DOMAIN}`, subject: `Order ${1000 + i}`, body: `Hello Alice,\nplease confirm order ${1000 + i}.\n` });
  }

  const env = `${ENV_MARKER}: the sandbox's throwaway Dovecot. Delete this file to configure your own.
MAIL_PROVIDER=dovecot
MAIL_DOMAIN=${DOMAIN}
STORE_URL=sqlite://./data/sandbox/postmaster.sqlite
BACKUP_DIR=./data/sandbox/backups
POSTMASTER_REQUESTERS=admin1
POSTMASTER_APPROVERS=admin2,admin3
DOVECOT_IMAP_URL=${dovecot.imapUrl}
DOVECOT_SIEVE_URL=${dovecot.sieveUrl}
DOVECOT_ADMIN_USER=${dovecot.adminUser}
DOVECOT_ADMIN_PASSWORD=${dovecot.adminPassword}
DOVECOT_DOVEADM_URL=${dovecot.doveadmUrl}
DOVECOT_DOVEADM_KEY=${dovecot.doveadmKey}
DOVECOT_PASSWD_FILE=${dovecot.passwdFile}
`;
  await writeFile(path.join(ROOT, 'sandbox.env'), env, { mode: 0o600 });
  const ownEnv = existsSync('.env') && !readFileSync('.env', 'utf8').startsWith(ENV_MARKER);
  if (!ownEnv) await writeFile('.env', env, { mode: 0o600 });

  console.log(`
Sandbox is up:
  Dovecot   IMAP 127.0.0.1:${PORTS.imap}  ManageSieve :${PORTS.sieve}  LMTP :${PORTS.lmtp}  doveadm :${PORTS.doveadm}
  SMTP sink 127.0.0.1:${PORTS.smtp}  (redirects and auto-replies land in data/sandbox/outbox/)
  Mailboxes ${USERS.map((u) => u.address).join(', ')}  (alice has 25 messages)
  Config    ${ownEnv ? 'data/sandbox/sandbox.env (your own .env was left alone: copy it over to use the sandbox)' : '.env'}

Try it in another terminal:
  npx postmaster mailboxes
  npx postmaster offboard alice --forward-to bob@${DOMAIN} --auto-reply --delete-after 30 --reason "left the company" --as admin1
  npx postmaster approve <id> --as admin2
  npx postmaster status <id>
  npx postmaster log verify

Postmaster's scheduler runs here until Ctrl-C, which also stops the sandbox.
`);

  const stopSandbox = async () => {
    await dovecot.kill();
    await sink.close();
  };
  if (!ownEnv) {
    const { main: runPostmaster } = await import('../src/main.js');
    await runPostmaster({ beforeExit: stopSandbox });
  } else {
    const stop = async () => {
      await stopSandbox();
      process.exit(0);
    };
    process.once('SIGINT', () => void stop());
    process.once('SIGTERM', () => void stop());
  }
}

await main();
