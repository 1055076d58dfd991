/**
 * `login-manager/mysql`: {@link MySqlStore}, server-side sessions in MySQL 8 or MariaDB 10.6+
 * through `mysql2`, with its options and the `StoreUnavailableError` its operations reject with.
 *
 * @module
 */
export { StoreUnavailableError } from '../unavailable.ts'
export type {
  MySqlCallbackPoolLike,
  MySqlConnectionLike,
  MySqlParam,
  MySqlPoolLike,
  MySqlStoreOptions,
  MySqlStoreTables,
} from './options.ts'
export { MySqlStore } from './store.ts'
