// @fastify/secure-session: Fastify's usual cookie session (libsodium secretbox through
// sodium-native), the user id as a session value, checked in a preHandler.
import { createHash } from 'node:crypto'
import formbody from '@fastify/formbody'
import fastifySecureSession from '@fastify/secure-session'
import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify'
import { checkPassword, loadUser } from '../../examples/basic/users.ts'
import { announce, benchSecret, HOST, loggedInAs, PORT } from './listen.ts'

/** The session with its one value typed. */
type BenchSession = fastifySecureSession.Session<{ userId: string }>
const sessionOf = (req: FastifyRequest) => req.session as unknown as BenchSession

const app = Fastify()
await app.register(formbody)
await app.register(fastifySecureSession, {
  // 32 bytes (crypto_secretbox_KEYBYTES), derived from the bench secret.
  key: createHash('sha256').update(benchSecret()).digest(),
  cookie: { path: '/', httpOnly: true, sameSite: 'lax' },
})

app.post('/login', async (req, reply) => {
  const form = (req.body ?? {}) as Record<string, string | undefined>
  const user = checkPassword(form.email, form.password)
  if (user === null) return reply.code(401).type('text/plain').send('Bad login')
  sessionOf(req).set('userId', user.id)
  return reply.type('text/plain').send('Logged in')
})

async function loginRequired(req: FastifyRequest, reply: FastifyReply): Promise<void> {
  const userId = sessionOf(req).get('userId')
  const user = typeof userId === 'string' ? loadUser(userId) : null
  if (user === null) {
    await reply.code(401).type('text/plain').send('Unauthorized')
    return
  }
  req.benchUser = user
}

declare module 'fastify' {
  interface FastifyRequest {
    benchUser?: { id: string }
  }
}

app.get('/protected', { preHandler: loginRequired }, async (req, reply) =>
  reply.type('text/html').send(loggedInAs(req.benchUser!.id)),
)

await app.listen({ port: PORT, host: HOST })
announce(app.server, () => app.close())
