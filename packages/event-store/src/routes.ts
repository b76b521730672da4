export function eventStoreRoutes(): never { throw new Error("todo"); }
