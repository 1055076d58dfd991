import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { CHUNK, fieldPath, listSize, padded, Statements } from './sql.ts'

const tables = { records: '`r`', index: '`i`' }

describe('MySqlStore statements', () => {
  it('on MariaDB, every statement carries max_statement_time, in seconds', () => {
    const sql = new Statements(tables, { mariadb: true, statementTimeout: 1500 }, 1000)
    for (const text of [sql.get, sql.members, sql.insert, sql.update, sql.sweepRecords]) {
      assert.match(text, /^SET STATEMENT max_statement_time=1\.500 FOR /)
    }
    assert.match(sql.destroyLive(3), /^SET STATEMENT max_statement_time=1\.500 FOR DELETE/)
    const tiny = new Statements(tables, { mariadb: true, statementTimeout: 0.2 }, 1000)
    assert.match(tiny.get, /max_statement_time=0\.001 /, 'never 0, which means no limit')
  })

  it('on MySQL, reads carry MAX_EXECUTION_TIME in ms; writes have no server-side limit', () => {
    const sql = new Statements(tables, { mariadb: false, statementTimeout: 1500 }, 1000)
    assert.match(sql.get, /^SELECT \/\*\+ MAX_EXECUTION_TIME\(1500\) \*\/ fields FROM `r`/)
    assert.match(sql.members, /^SELECT \/\*\+ MAX_EXECUTION_TIME\(1500\) \*\/ i\.member_key/)
    assert.match(sql.update, /^UPDATE `r` r LEFT JOIN `i` i/)
    assert.match(sql.lockLive, /^SELECT 1 FROM `r` .* FOR UPDATE$/, 'no hint on a locking read')
  })

  it('without a timeout, statements are plain', () => {
    const sql = new Statements(tables, { mariadb: true, statementTimeout: undefined }, 1000)
    assert.match(
      sql.get,
      /^SELECT fields FROM `r` WHERE `key` = \? AND expires_at > \(TIMESTAMPDIFF/,
    )
    assert.match(
      sql.sweepIndex,
      /^DELETE FROM `i` WHERE expires_at <= .* ORDER BY expires_at LIMIT 1000$/,
    )
  })

  it('time is UTC milliseconds from the database clock', () => {
    const sql = new Statements(tables, { mariadb: true, statementTimeout: undefined }, 1000)
    assert.ok(
      sql.get.includes(
        "TIMESTAMPDIFF(MICROSECOND, '1970-01-01 00:00:00', UTC_TIMESTAMP(6)) DIV 1000",
      ),
    )
  })

  it('compare-and-set compares bytes, one path and value per expected field', () => {
    const sql = new Statements(tables, { mariadb: false, statementTimeout: undefined }, 1000)
    const text = sql.lockExpected(2)
    assert.equal(
      text.match(
        /CAST\(JSON_UNQUOTE\(JSON_EXTRACT\(fields, \?\)\) AS BINARY\) = CAST\(\? AS BINARY\)/g,
      )?.length,
      2,
    )
    assert.equal(sql.lockExpected(2), text, 'built once')
  })

  it('lists are padded to a few sizes, so each statement has few prepared forms', () => {
    assert.deepEqual([1, 2, 3, 5, 100, 129, CHUNK].map(listSize), [1, 2, 4, 8, 128, CHUNK, CHUNK])
    assert.deepEqual(padded(['a', 'b', 'c']), ['a', 'b', 'c', 'c'])
    const sql = new Statements(tables, { mariadb: false, statementTimeout: undefined }, 1000)
    assert.equal(sql.destroyLive(3).match(/\?/g)?.length, 4)
    assert.equal(sql.unindex(200).match(/\?/g)?.length, CHUNK)
  })

  it('field names become quoted JSON path members', () => {
    assert.equal(fieldPath('h'), '$."h"')
    assert.equal(fieldPath('q"u\\o'), '$."q\\"u\\\\o"')
    assert.equal(fieldPath('a.b'), '$."a.b"')
  })
})
