// `npm start`: serves the basic example on http://127.0.0.1:5000 (PORT changes the port).
import { createApp } from './basic/express.ts'

const port = Number(process.env.PORT ?? 5000)
const host = process.env.HOST ?? '127.0.0.1'
const framework = process.env.FRAMEWORK ?? 'express'
if (framework !== 'express') {
  console.error(
    `FRAMEWORK=${framework} is not available yet; this version serves FRAMEWORK=express`,
  )
  process.exit(1)
}
const server = createApp().listen(port, host, () => {
  console.log(`login-manager basic example (express) on http://${host}:${port}/`)
  console.log('log in as leafstorm / secret')
})
process.on('SIGTERM', () => server.close())
