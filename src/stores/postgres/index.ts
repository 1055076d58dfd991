// login-manager/postgres: the PostgreSQL session store (pg, node-postgres 8).

export { StoreUnavailableError } from '../unavailable.ts'
export type { PostgresSchemaOptions } from './schema.ts'
export {
  type PostgresPoolLike,
  type PostgresQuery,
  type PostgresResult,
  PostgresStore,
  type PostgresStoreOptions,
} from './store.ts'
