export { StoreUnavailableError } from '../unavailable.ts'
export type {
  SqliteDatabaseLike,
  SqliteStatementLike,
  SqliteTransactionLike,
} from './driver.ts'
export type { SqliteStoreOptions } from './options.ts'
export type { SqliteTableOptions } from './schema.ts'
export { SqliteStore } from './store.ts'
