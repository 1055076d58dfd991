import type { AdapterHarness } from '../harness.ts'
import { expressHarness, expressRoutesHarness } from './express.ts'
import { express4Harness } from './express4.ts'
import { fastifyHarness } from './fastify.ts'
import { fetchHarness, fetchNodeHarness } from './fetch.ts'
import { honoHandlerHarness, honoHarness } from './hono.ts'
import { koaHarness } from './koa.ts'

/** Every adapter harness; each new adapter appends its harness here. */
export const allAdapters: readonly AdapterHarness[] = [
  expressHarness,
  expressRoutesHarness,
  express4Harness,
  honoHarness,
  honoHandlerHarness,
  fastifyHarness,
  koaHarness,
  fetchHarness,
  fetchNodeHarness,
]

/**
 * The harnesses named by `ADAPTERS` (a comma list, e.g. `ADAPTERS=hono,koa`), for debugging one
 * adapter; all of them when it is unset or empty. An unknown name is an error, not a silent skip.
 */
function selected(list: string | undefined): AdapterHarness[] {
  const names = (list ?? '')
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name !== '')
  if (names.length === 0) return [...allAdapters]
  const known = new Map(allAdapters.map((a) => [a.name, a]))
  return names.map((name) => {
    const adapter = known.get(name)
    if (adapter === undefined) {
      throw new Error(
        `ADAPTERS: unknown adapter '${name}' (known: ${[...known.keys()].join(', ')})`,
      )
    }
    return adapter
  })
}

/** Every adapter the conformance suite runs against (env `ADAPTERS` selects a subset). */
export const adapters: AdapterHarness[] = selected(process.env.ADAPTERS)
