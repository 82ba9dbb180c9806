// A stand-in for a package that a bundled module requires when it loads but uses only later (on an
// invocation): the package is required at the stand-in's first use (a property read, a call, `new`,
// `in`, a listing of its keys), and from then on every operation goes to it. scripts/package.mjs puts
// these in build/deploy/index.js for the packages durable-functions requires at its top for its
// client and timers, which a cold start does not use.
"use strict";

module.exports = function onFirstUse(load) {
  let loaded;
  const real = () => {
    if (loaded === undefined) loaded = load();
    return loaded;
  };
  // A function, so that the stand-in can be called and constructed like a package that exports one
  // (moment, lodash/cloneDeep). Its own non-configurable `prototype` is the one key a proxy must keep.
  const target = function standIn() {};
  const fixed = (key) => {
    const own = Reflect.getOwnPropertyDescriptor(target, key);
    return own !== undefined && !own.configurable ? own : undefined;
  };
  return new Proxy(target, {
    get: (_, key) => Reflect.get(real(), key),
    set: (_, key, value) => Reflect.set(real(), key, value),
    has: (_, key) => Reflect.has(real(), key),
    deleteProperty: (_, key) => Reflect.deleteProperty(real(), key),
    defineProperty: (_, key, descriptor) =>
      Reflect.defineProperty(real(), key, descriptor) &&
      (descriptor.configurable === true || Reflect.defineProperty(target, key, descriptor)),
    getPrototypeOf: () => Reflect.getPrototypeOf(real()),
    apply: (_, self, args) => Reflect.apply(real(), self, args),
    construct: (_, args, newTarget) => Reflect.construct(real(), args, newTarget),
    ownKeys: () => [...new Set([...Reflect.ownKeys(real()), ...Reflect.ownKeys(target).filter(fixed)])],
    getOwnPropertyDescriptor: (_, key) => {
      const own = Reflect.getOwnPropertyDescriptor(real(), key);
      const kept = fixed(key);
      // A proxy must report the target's non-configurable keys as they are (a writable value may differ).
      if (kept !== undefined)
        return own !== undefined && "value" in own ? { ...kept, value: own.value } : kept;
      return own === undefined ? undefined : { ...own, configurable: true };
    },
  });
};
