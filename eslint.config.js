import neostandard from 'neostandard'

export default [
  ...neostandard({
    ts: true,
    ignores: ['dist/**', 'coverage/**', '.tap/**', 'test/generated/**', 'test-artifacts/**', 'bench/tmp/**']
  }),
  {
    rules: {
      // A schema and its Static type share one name (schemas/*.ts), as the style guide asks.
      '@typescript-eslint/no-redeclare': 'off',
      // `void promise` marks a deliberately unawaited call; a bare expression would hide it.
      'no-void': ['error', { allowAsStatement: true }],
      '@stylistic/max-len': ['error', { code: 140, ignoreUrls: true, ignoreRegExpLiterals: true, ignoreTemplateLiterals: true, ignoreStrings: true }]
    }
  }
]
