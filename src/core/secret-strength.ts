/**
 * An estimate of how hard a secret is to guess, in bits, for refusing hand-written secrets at
 * start-up. A secret is explained as cheaply as possible as a sequence of pieces, each costing
 * what an attacker who tries that kind of piece first would pay:
 *
 * - a character drawn from the character classes the secret uses (lower case 26, upper case 26,
 *   digits 10, ASCII punctuation and space 33, anything else 100): log2 of their total;
 * - a run or a sequence (`aaaa`, `abcd`, `4321`): its first character, its length, its direction;
 * - a repeat of an earlier part (`…key-1234…key-1234`): where the copy starts and its length;
 * - a word from a list of words common in hand-made secrets (`my-super-secret-session-key`,
 *   keyboard walks, the `correct horse battery staple` phrase), also with capitals or the usual
 *   digit-for-letter swaps: one guess from the list, plus a bit for each variation.
 *
 * The cheapest explanation is found by dynamic programming over the secret. A random secret has
 * no cheap explanation, so its estimate stays close to its true entropy (32 random bytes in hex,
 * base64 or base64url: well over 200 bits); a secret a person made up does. The estimate can
 * only judge what it sees: a passphrase of random words that are not on the list is counted by
 * its letters, which overstates it (a word from a 7,776-word list is about 13 bits).
 *
 * @module
 */

/**
 * The estimate below which a secret is refused. Far below the 256 bits of 32 random bytes, and
 * above what the hand-made secrets this model explains come to; random secrets of 16 bytes or
 * more (hex, base64, base64url) stay above it with a wide margin.
 */
export const MIN_SECRET_BITS = 100

// Longer secrets are judged on their beginning: the estimate only grows with length, and the
// repeat search is quadratic.
const MAX_ANALYSED = 512
const MIN_PIECE = 3

// Words that hand-made secrets are built from: the words of "secret key" phrases and default
// configs, tutorial filler, framework names, the most common passwords and keyboard walks.
// Lower case, at least three letters (shorter ones would match inside random strings).
const WORDS = `
secret secrets session sessions key keys password passwords passwd pass passphrase phrase token
tokens auth authentication login logins logout cookie cookies sign signing signature encrypt
encryption crypto cipher private public super very long longer string random value default
example sample demo test testing tests dev develop development prod production staging local
localhost change changeme changed replace please this that with your our the and for not must
should here there real really strong stronger strongest complex hard guess least character
characters chars byte bytes bits minimum app apps application server service api web site
website node nodejs express flask django rails hono koa fastify next nextjs react manager admin
administrator root user users guest master main hello world welcome letmein qwerty qwertz azerty
asdf zxcv qwertyuiop asdfghjkl zxcvbnm abc foo bar baz qux lorem ipsum dolor sit amet correct
horse battery staple monkey dragon sunshine princess football baseball iloveyou trustno shadow
superman batman access mustang keyboard cat dog one two three four five six seven eight nine ten
zero first second new old top jwt hmac sha aes salt pepper seed hash data info config env
environment variable set get use make sure keep safe security secure insecure unsafe dummy fake
mock temp tmp todo fixme xxx placeholder insert generate generated npm docker company project my
mine own unique special magic open sesame god love money freedom summer winter spring autumn
january system systems cloud backend frontend database redis postgres mysql
`
  .trim()
  .split(/\s+/)
const DICTIONARY = new Set(WORDS.filter((word) => word.length >= MIN_PIECE))
const LONGEST_WORD = Math.max(...[...DICTIONARY].map((word) => word.length))
const WORD_BITS = Math.log2(DICTIONARY.size)

// The digit-for-letter swaps people make (`p4ssw0rd`, `s3cr3t`, `$ecret`).
const LEET: Readonly<Record<string, string>> = {
  '0': 'o',
  '1': 'i',
  '3': 'e',
  '4': 'a',
  '5': 's',
  '7': 't',
  '@': 'a',
  $: 's',
  '!': 'i',
}

/** log2 of the number of characters in the classes `chars` uses. */
function characterBits(chars: readonly string[]): number {
  let lower = false
  let upper = false
  let digit = false
  let symbol = false
  let other = false
  for (const ch of chars) {
    const code = ch.codePointAt(0) ?? 0
    if (code >= 0x61 && code <= 0x7a) lower = true
    else if (code >= 0x41 && code <= 0x5a) upper = true
    else if (code >= 0x30 && code <= 0x39) digit = true
    else if (code >= 0x20 && code < 0x7f) symbol = true
    else other = true
  }
  const size =
    (lower ? 26 : 0) + (upper ? 26 : 0) + (digit ? 10 : 0) + (symbol ? 33 : 0) + (other ? 100 : 0)
  return Math.log2(Math.max(size, 2))
}

/**
 * Estimated bits an attacker must guess to find `secret`, by the model described in this
 * module's header. Deterministic, never throws.
 *
 * @example
 * ```ts
 * estimateSecretBits('abcdefghijklmnopqrstuvwxyz012345') // ≈ 20
 * estimateSecretBits(randomBytes(32).toString('base64url')) // > 200
 * ```
 */
export function estimateSecretBits(secret: string): number {
  const chars = Array.from(secret).slice(0, MAX_ANALYSED)
  const n = chars.length
  if (n === 0) return 0
  const codes = chars.map((ch) => ch.codePointAt(0) ?? 0)
  const lowered = chars.map((ch) => ch.toLowerCase())
  const unleeted = lowered.map((ch) => LEET[ch] ?? ch)
  const charBits = characterBits(chars)

  // longestRepeat[i]: the longest part starting at i that also starts at some earlier j. Row by
  // row from the end: common[j] is the length of the common prefix of positions i and j.
  const longestRepeat = new Int32Array(n)
  let below = new Int32Array(n + 1)
  for (let i = n - 1; i >= 1; i--) {
    const common = new Int32Array(n + 1)
    let best = 0
    for (let j = i - 1; j >= 0; j--) {
      if (codes[i] === codes[j]) {
        common[j] = 1 + (below[j + 1] ?? 0)
        if ((common[j] ?? 0) > best) best = common[j] ?? 0
      }
    }
    longestRepeat[i] = best
    below = common
  }

  // cost[i]: the cheapest explanation of the first i characters.
  const cost = new Float64Array(n + 1).fill(Number.POSITIVE_INFINITY)
  cost[0] = 0
  const relax = (to: number, value: number) => {
    if (value < (cost[to] ?? Number.POSITIVE_INFINITY)) cost[to] = value
  }
  for (let i = 0; i < n; i++) {
    const here = cost[i] ?? Number.POSITIVE_INFINITY
    relax(i + 1, here + charBits)

    // A run (step 0) or an ascending or descending sequence (step ±1).
    if (i + 1 < n) {
      const step = (codes[i + 1] ?? 0) - (codes[i] ?? 0)
      if (step >= -1 && step <= 1) {
        let end = i + 2
        while (end < n && (codes[end] ?? 0) - (codes[end - 1] ?? 0) === step) end++
        for (let length = MIN_PIECE; length <= end - i; length++) {
          relax(i + length, here + charBits + Math.log2(length) + (step === 0 ? 0 : 1))
        }
      }
    }

    const repeat = longestRepeat[i] ?? 0
    for (let length = MIN_PIECE; length <= repeat; length++) {
      relax(i + length, here + Math.log2(i) + Math.log2(length))
    }

    let word = ''
    let plain = ''
    for (let length = 1; length <= LONGEST_WORD && i + length <= n; length++) {
      word += unleeted[i + length - 1]
      plain += lowered[i + length - 1]
      if (length < MIN_PIECE || !DICTIONARY.has(word)) continue
      const capitals = chars.slice(i, i + length).join('') !== plain ? 1 : 0
      const swaps = plain !== word ? 1 : 0
      relax(i + length, here + WORD_BITS + capitals + swaps)
    }
  }
  return cost[n] ?? 0
}
