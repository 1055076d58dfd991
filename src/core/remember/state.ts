import type { RememberDecoded } from './codec.ts'

/**
 * What this request does to the remember-me cookie, decided by login, logout, a restore or a
 * refusal, and carried out at commit:
 * - `none`: nothing decided (a valid cookie may still be refreshed, `refreshEachRequest`);
 * - `issue`: send a new token, valid `duration` seconds (`selector`: the store token reserved at login);
 * - `clear`: delete the cookie and revoke the token it carries;
 * - `rotated`: a store token was used and rotated: send its new `value`, and `confirm` the
 *   rotation once the session it restored is written.
 */
export type RememberChange =
  | { readonly kind: 'none' }
  | { readonly kind: 'issue'; readonly duration: number; readonly selector?: string | undefined }
  | { readonly kind: 'clear' }
  | {
      readonly kind: 'rotated'
      readonly value: string
      readonly confirm: (() => Promise<void>) | undefined
    }

const NONE: RememberChange = Object.freeze({ kind: 'none' })
const CLEAR: RememberChange = Object.freeze({ kind: 'clear' })

/** The remember-me state of one request: the change to make, and the presented cookie decoded. */
export class RememberState {
  change: RememberChange = NONE
  /** The presented cookie, decoded once (cookie formats); `undefined` until read. */
  decoded: RememberDecoded | undefined

  get cleared(): boolean {
    return this.change.kind === 'clear'
  }

  clear(): void {
    this.change = CLEAR
  }

  issue(duration: number, selector?: string): void {
    this.change = { kind: 'issue', duration, selector }
  }

  /** Forgets a change an earlier login of this same request asked for. */
  reset(): void {
    this.change = NONE
  }

  rotated(value: string, confirm: (() => Promise<void>) | undefined): void {
    this.change = { kind: 'rotated', value, confirm }
  }
}
