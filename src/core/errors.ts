export type { ErrorCode } from '../shared/errors.ts'
export { LoginManagerError } from '../shared/errors.ts'
