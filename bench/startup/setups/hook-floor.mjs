// Reference row (not a peer): the floor of any ESM load hook, pass-through hooks that do
// nothing. Where Node runs hooks in the app's thread (`module.registerHooks`, Node 22.15+) those,
// as tokenmeter uses them; elsewhere (Node 20) `module.register`, which starts the loader-hooks
// thread (a second V8 isolate) whatever the hooks do.
import module from 'node:module';

if (typeof module.registerHooks === 'function') {
  module.registerHooks({
    resolve: (specifier, context, next) => next(specifier, context),
    load: (url, context, next) => next(url, context),
  });
} else {
  module.register('./pass-through-loader.mjs', import.meta.url);
}
