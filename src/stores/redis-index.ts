// `login-manager/redis`: the Redis session store and the Redis revocation store.
export * from './redis.ts'
export * from './redis-revocations.ts'
