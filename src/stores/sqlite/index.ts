export { StoreUnavailableError } from '../unavailable.ts'
export type {
  SqliteDatabaseLike,
  SqliteStatementLike,
  SqliteTransactionLike,
} from './driver.ts'
export type { SqliteTableOptions } from './schema.ts'
export type { SqliteStoreOptions } from './store.ts'
export { SqliteStore } from './store.ts'
