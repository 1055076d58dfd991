// login-manager/postgres: the PostgreSQL session store (pg, node-postgres 8).

export { StoreUnavailableError } from '../unavailable.ts'
export type {
  PostgresPoolLike,
  PostgresQuery,
  PostgresResult,
  PostgresStoreOptions,
} from './options.ts'
export type { PostgresSchemaOptions } from './schema.ts'
export { PostgresStore } from './store.ts'
