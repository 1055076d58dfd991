// The floor: what a login guard must do on this route, hand-written inline with login-manager's
// own parsing and crypto, and nothing else (no auth object, no session object, no events, no
// remember-me, no response hook). Not a usable library: a reference that shows how much of the
// budget the work itself takes on this machine, whoever writes it. Same manager, cookie and user
// loader as servers/login-manager.ts; the cache of opened seals mirrors the cookie backend's.
import { createHash } from 'node:crypto'
import express from 'express'
import { loadUser } from '../../examples/basic/users.ts'
import { createBenchManager } from '../lib/login-manager-app.ts'
import { benchSecret, serve } from '../lib/serve.ts'

// The built modules (what the other servers run, through the package's exports), typed from src/:
// these internals are not exported, and dist/ does not exist before `npm run build`.
const built = <T>(path: string): Promise<T> =>
  import(new URL(`../../dist/${path}`, import.meta.url).href)
const { rawHeader } =
  await built<typeof import('../../src/adapters/headers.ts')>('adapters/headers.js')
const { getCookie } = await built<typeof import('../../src/cookie/parse.ts')>('cookie/parse.js')
const { unseal } = await built<typeof import('../../src/crypto/seal.ts')>('crypto/seal.js')
const { decodeCachedPayload } =
  await built<typeof import('../../src/session/payload.ts')>('session/payload.js')

const manager = createBenchManager(benchSecret())
const keys = manager._keys.forPurpose('session')
const { name, idleTimeout, absoluteTimeout } = manager.options.session
const opened = new Map<string, ReturnType<typeof decodeCachedPayload>>()
let lastClient = ''
let lastIdentifier = ''

const app = express()

app.get('/protected', (req, res) => {
  const raw = req.rawHeaders
  const value = getCookie(rawHeader(raw, 'cookie'), name)
  let init = value === undefined ? null : opened.get(value)
  if (value !== undefined && init === undefined) {
    const result = unseal(keys, value, name)
    init = result.ok ? decodeCachedPayload(result.plaintext) : null
    if (opened.size < 10_000) opened.set(value, init)
  }
  const now = Math.floor(Date.now() / 1000)
  const auth = init?.auth
  if (
    init == null ||
    auth?.userId === undefined ||
    now - init.lastActive > idleTimeout ||
    now - init.createdAt > absoluteTimeout
  ) {
    res.status(401).send('Unauthorized')
    return
  }
  // Session protection: the client's identifier, hashed once per client. A mismatch ends the
  // login here (strong mode's answer; basic mode would re-seal the session as not fresh).
  const client = `${req.socket.remoteAddress}|${rawHeader(raw, 'user-agent')}`
  if (client !== lastClient) {
    lastClient = client
    lastIdentifier = createHash('sha256').update(client).digest('base64url').slice(0, 22)
  }
  const bound = auth.identifier === lastIdentifier || auth.identifier === null
  const user = bound ? loadUser(String(auth.userId)) : null
  if (user === null) {
    res.status(401).send('Unauthorized')
    return
  }
  res.setHeader('Vary', 'Cookie')
  res.send(`Logged in as: ${user.id}`)
})

serve(app)
