#!/usr/bin/env node
// `npx login-manager secret` prints a new random secret for the `secret` option.
import { randomBytes } from 'node:crypto'

const [command] = process.argv.slice(2)
if (command === 'secret') {
  process.stdout.write(`${randomBytes(32).toString('base64url')}\n`)
} else {
  process.stderr.write('usage: login-manager secret   # prints a new 256-bit secret\n')
  process.exit(command === undefined || command === '--help' ? 0 : 1)
}
