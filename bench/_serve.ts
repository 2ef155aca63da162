import { writeFileSync } from 'node:fs';
import { startDovecot, MAIL_UID, MAIL_GID } from '../src/sandbox/dovecot-instance.js';
import { seedMaildir } from './seed-maildir.js';
const d = await startDovecot({ dir: '/tmp/pmprobe/dv', users: [{ address: 'bench0@example.test', password: 'p' }], submissionHost: '127.0.0.1:9', adminPassword: 'adminpw' });
const r = await seedMaildir({ maildir: '/tmp/pmprobe/dv/mail/example.test/bench0/Maildir', messages: 20000, owner: { uid: MAIL_UID, gid: MAIL_GID } });
writeFileSync('/tmp/pmprobe/job.json', JSON.stringify({ login: { host: '127.0.0.1', port: d.ports.imap, secure: false, user: d.adminUser, password: d.adminPassword, authzid: 'bench0@example.test' }, mailbox: 'bench0@example.test', directory: '/tmp/pmprobe/out' }));
console.log(JSON.stringify(r));
process.exit(0);
