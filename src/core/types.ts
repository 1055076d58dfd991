export type { MaybePromise, RequestAdapter, UserId, UserLike } from '../shared/types.ts'
