export { ManageSieveClient, parseSieveUrl, type ManageSieveConnectOptions } from './client.js';
export type { ManageSieveCapabilities } from './commands/capability.js';
export type { ScriptInfo } from './commands/listscripts.js';
export type { ScriptCheck } from './commands/putscript.js';
export { ManageSieveError, isManageSieveError, type ManageSieveErrorKind } from './errors.js';
