import type express5 from 'express'
// @ts-expect-error -- 'express4' (npm:express@4) ships no types; it is typed as Express 5 below.
import untypedExpress4 from 'express4'
import type { AdapterHarness } from '../harness.ts'
import { makeExpressHarness } from './express.ts'

/**
 * The Express harness on Express 4.22 (installed under the alias `express4`), typed with Express
 * 5's declarations: the API the harness uses is the same in both.
 */
export const express4Harness: AdapterHarness = makeExpressHarness(
  'express4',
  untypedExpress4 as typeof express5,
)
