import net from 'node:net';
import { describe, it, expect } from 'vitest';
import { findNatsServerBinary, getFreePort, isNatsReachable } from './local-nats.ts';

describe('getFreePort', () => {
  it('returns a port that can be bound right away', async () => {
    const port = await getFreePort();
    expect(port).toBeGreaterThan(0);
    expect(port).toBeLessThan(65_536);
    const server = net.createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', resolve);
    });
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
});

describe('isNatsReachable', () => {
  it('is false on a closed port', async () => {
    const port = await getFreePort();
    await expect(isNatsReachable(`nats://127.0.0.1:${port}`)).resolves.toBe(false);
  });

  it('is false for a TCP server that does not speak NATS', async () => {
    const server = net.createServer((socket) => socket.end('HTTP/1.1 400 Bad Request\r\n\r\n'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as net.AddressInfo;
    try {
      await expect(isNatsReachable(`nats://127.0.0.1:${port}`)).resolves.toBe(false);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('is true for a server that sends an INFO line', async () => {
    const sockets = new Set<net.Socket>();
    const server = net.createServer((socket) => {
      sockets.add(socket);
      socket.on('error', () => {});
      socket.write('INFO {"server_id":"x"}\r\n');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as net.AddressInfo;
    try {
      await expect(isNatsReachable(`127.0.0.1:${port}`)).resolves.toBe(true);
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('is false, not a throw, on a timeout or a malformed URL', async () => {
    const server = net.createServer(() => {
      // accept but stay silent
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as net.AddressInfo;
    try {
      await expect(isNatsReachable(`nats://127.0.0.1:${port}`, 200)).resolves.toBe(false);
      await expect(isNatsReachable('nats://[not a url', 200)).resolves.toBe(false);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});

describe('findNatsServerBinary', () => {
  it('rejects an explicit path that is not executable, with a clear message', async () => {
    await expect(findNatsServerBinary('/nonexistent/nats-server')).rejects.toThrow(
      /not an executable/,
    );
  });
});
