/**
 * `lab hubble` end to end: the real CLI and command, the real client-node PortForward against the
 * loopback API server, which forwards pods/NAME/portforward to a real HTTP server on loopback
 * playing the hubble-ui container (port 8081 behind the Service's port 80). A browser's request
 * to the printed URL gets the UI's page; Ctrl-C stops the listener.
 */
import { EventEmitter } from 'node:events';
import { createServer, type Server } from 'node:http';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadLabConfig } from '../../lib/config/load.js';
import { planLab } from '../../lib/config/plan.js';
import { createKubeClient } from '../../lib/kube/kube-client.js';
import { runCli } from '../../lib/lab/cli.js';
import { hubbleCommand } from '../../lib/lab/commands/hubble.js';
import type { LabServices } from '../../lib/lab/services.js';
import { LabWorld } from '../checks/lab-world.js';
import { stackOutputsFor } from './harness.js';

const plan = planLab(loadLabConfig({ context: {} }));
const PAGE = '<!doctype html><html><head><title>Hubble UI</title></head><body><div id="app"></div></body></html>';

let world: LabWorld;
let ui: Server;
let stateDir: string;
const saved = process.env.CILIUM_LAB_STATE_DIR;

beforeAll(async () => {
  world = await LabWorld.start();
  ui = createServer((_req, res) => res.end(PAGE));
  await new Promise<void>((resolve) => ui.listen(0, '127.0.0.1', resolve));
  stateDir = mkdtempSync(join(tmpdir(), 'lab-hubble-'));
  process.env.CILIUM_LAB_STATE_DIR = stateDir;
  mkdirSync(join(stateDir, plan.config.labName), { recursive: true });
  world.api.writeKubeconfig(join(stateDir, plan.config.labName));
});
afterAll(async () => {
  await world.close();
  await new Promise((resolve) => ui.close(resolve));
  rmSync(stateDir, { recursive: true, force: true });
  if (saved === undefined) delete process.env.CILIUM_LAB_STATE_DIR;
  else process.env.CILIUM_LAB_STATE_DIR = saved;
});

async function hubble(argv: string[], onListening: (url: string, signals: EventEmitter) => Promise<void>) {
  const signals = new EventEmitter();
  const lines: string[] = [];
  const code = await runCli(['hubble', ...argv], {
    commands: [hubbleCommand({ signals, onListening: (url) => void onListening(url, signals) })],
    createServices: () => ({ stackOutputs: async () => stackOutputsFor(plan) }) as unknown as LabServices,
    out: () => ({ info: (l) => lines.push(l), result: (l) => lines.push(l) }),
  });
  return { code, text: lines.join('\n') };
}

describe('lab hubble', () => {
  it('forwards localhost to the hubble-ui pod through the Kubernetes API until Ctrl-C', async () => {
    // given the hubble-ui container listening (the fake API forwards its port 8081 there)
    world.api.portForwardTargets.set('kube-system/hubble-ui-6b468cff75-q2w8z:8081', { host: '127.0.0.1', port: (ui.address() as AddressInfo).port });
    let page = '';
    // when: a browser opens the URL twice (two connections), then Ctrl-C
    const run = await hubble(['--port', '0'], async (url, signals) => {
      page = await (await fetch(url)).text();
      await (await fetch(`${url}/again`, { headers: { connection: 'close' } })).text();
      signals.emit('SIGINT');
    });
    // then
    expect(run.code).toBe(0);
    expect(page).toBe(PAGE);
    expect(run.text).toMatch(/Hubble UI: http:\/\/localhost:\d+ {2}\(forwarded to kube-system\/hubble-ui-6b468cff75-q2w8z:8081 through the Kubernetes API; Ctrl-C to stop\)/);
    expect(run.text).toMatch(/Hubble UI forwarding stopped \(SIGINT\) after [12] connection\(s\)\./);
    expect(world.api.requests.some((r) => r.path === '/api/v1/namespaces/kube-system/pods/hubble-ui-6b468cff75-q2w8z/portforward?ports=8081' && r.status === 101)).toBe(true);
  });

  it('refuses a bad --port before any call', async () => {
    const run = await hubble(['--port', '70000'], async () => undefined);
    expect([run.code, run.text]).toEqual([2, 'lab hubble failed: --port 70000: give a TCP port from 1 to 65535 (0: any free port)']);
  });
});

describe('KubeClient.forwardPort', () => {
  it('ends the connection with the API server\'s error when nothing listens in the pod', async () => {
    const kube = createKubeClient(join(stateDir, plan.config.labName, 'kubeconfig'));
    const { PassThrough, Duplex } = await import('node:stream');
    const fromPod = new PassThrough();
    const toPod = new PassThrough();
    const connection = Duplex.from({ readable: toPod, writable: fromPod });
    const closed = new Promise<Error | undefined>((resolve) => connection.on('close', () => resolve(undefined)).on('error', (e) => resolve(e)));
    await kube.forwardPort('kube-system', 'hubble-ui-6b468cff75-q2w8z', 9999, connection);
    const error = await closed;
    expect(error?.message).toMatch(/port-forward to kube-system\/hubble-ui-6b468cff75-q2w8z:9999: error forwarding port 9999 .*connection refused/);
  });
});
