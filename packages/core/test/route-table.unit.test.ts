import { CoreError, type PlatRoute, RouteTable } from '../src';
import { joinPath } from '../src/route-table';

const ok = () => ({ status: 200 });
const routes: PlatRoute[] = [
  { method: 'GET', path: '/keys', handler: ok },
  { method: 'GET', path: '/keys/:id', handler: ok },
  { method: 'POST', path: '/keys/:id/rotate', handler: ok },
  { method: 'DELETE', path: '/keys/:id', handler: ok },
];

describe('RouteTable', () => {
  const table = new RouteTable(routes, '/admin/');

  it('matches templates under the prefix and decodes parameters', () => {
    expect(table.match('GET', '/admin/keys')?.template).toBe('/admin/keys');
    const m = table.match('POST', '/admin/keys/a%2Fb/rotate');
    expect(m?.template).toBe('/admin/keys/:id/rotate');
    expect(m?.params).toEqual({ id: 'a/b' });
    expect(table.match('DELETE', '/admin/keys/k1/')?.params).toEqual({ id: 'k1' });
  });

  it('lets HEAD use GET routes and rejects other methods and paths', () => {
    expect(table.match('HEAD', '/admin/keys/1')?.template).toBe('/admin/keys/:id');
    expect(table.match('PUT', '/admin/keys/1')).toBeUndefined();
    expect(table.match('GET', '/keys/1')).toBeUndefined();
    expect(table.match('GET', '/admin/keys/1/extra')).toBeUndefined();
  });

  it('raises a typed error for broken percent-encoding', () => {
    expect(() => table.match('GET', '/admin/keys/%E0%A4%A')).toThrow(CoreError);
  });

  it('joins prefixes with single slashes', () => {
    expect(joinPath('', '/')).toBe('/');
    expect(joinPath('/a/', '/b/')).toBe('/a/b');
    expect(joinPath('a', 'b/c')).toBe('/a/b/c');
  });
});
