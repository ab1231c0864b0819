// The schemas reach TypeBox through this module alone. TypeBox ships as about 370 ES modules, and
// Node keeps a module record and evaluated module code for each one for the life of the process:
// loaded that way it holds 3 MiB of heap, grows RSS by about 15 MiB and takes 350 ms at start.
// `npm run build` therefore writes this module as one file bundling the same package (esbuild),
// which holds 0.4 MiB; tests and tsx run this re-export as it is.
export * from 'typebox'
