import type { PurposeKeys } from '../../crypto/keys.ts'
import type { RevocationList } from '../../session/revocations.ts'
import type { RememberCodec } from './codec.ts'
import { FlaskRememberCodec } from './flask.ts'
import { SealedRememberCodec } from './sealed.ts'

/** The codec of a remember-cookie format: `sealed` (the default) or Flask-Login's `flask`. */
export function rememberCodecFor(
  format: 'sealed' | 'flask',
  keys: PurposeKeys,
  secrets: readonly string[],
  name: string,
  revoked?: RevocationList,
): RememberCodec {
  return format === 'flask'
    ? new FlaskRememberCodec(secrets, name)
    : new SealedRememberCodec(keys, name, revoked)
}
