/**
 * `lab hubble`: the Hubble UI on this machine, `kubectl port-forward` style, with nothing opened
 * to the internet: a listener on 127.0.0.1 whose every connection is forwarded through the
 * Kubernetes API (client-node's PortForward, the kubeconfig's credentials) to the hubble-ui pod's
 * port behind the hubble-ui Service. It prints the URL and runs until Ctrl-C or SIGTERM.
 */
import { createServer, type AddressInfo, type Socket } from 'node:net';
import type { KubeClient } from '../../kube/types.js';
import { UsageError, type LabCommand } from '../cli.js';
import { KUBECONFIG_OPTION, connectToCluster, validateKubeconfigOption, type CheckCommandSettings, type SignalSource } from './check.js';

export const HUBBLE_UI_NAMESPACE = 'kube-system';
export const HUBBLE_UI_SERVICE = 'hubble-ui';
export const HUBBLE_UI_SELECTOR = 'k8s-app=hubble-ui';
export const DEFAULT_HUBBLE_PORT = 12000;

export interface HubbleCommandSettings extends Pick<CheckCommandSettings, 'createKube' | 'timeouts'> {
  /** @default process */
  readonly signals?: SignalSource;
  /** Called with the URL once the listener is up (tests connect to it). */
  readonly onListening?: (url: string) => void;
}

/** The pod and port the hubble-ui Service sends to (its first port's numeric targetPort). */
async function hubbleUiBackend(kube: KubeClient): Promise<{ pod: string; port: number }> {
  const service = await kube.getService(HUBBLE_UI_NAMESPACE, HUBBLE_UI_SERVICE);
  if (!service) throw new Error(`cilium-lab: service ${HUBBLE_UI_NAMESPACE}/${HUBBLE_UI_SERVICE} not found: install Cilium with hubble.ui.enabled (lab up does)`);
  const target = service.ports[0]?.targetPort;
  const port = typeof target === 'number' ? target : Number(target);
  if (!Number.isInteger(port) || port <= 0) throw new Error(`cilium-lab: service ${HUBBLE_UI_NAMESPACE}/${HUBBLE_UI_SERVICE} has no numeric targetPort (${String(target)})`);
  const pods = (await kube.listPods(HUBBLE_UI_NAMESPACE, HUBBLE_UI_SELECTOR)).filter((p) => p.phase === 'Running' && p.ready && !p.terminating);
  const pod = pods[0];
  if (!pod) throw new Error(`cilium-lab: no Ready hubble-ui pod in ${HUBBLE_UI_NAMESPACE} (${HUBBLE_UI_SELECTOR}); see lab check's cluster/cilium-components-ready`);
  return { pod: pod.name, port };
}

export function hubbleCommand(settings: HubbleCommandSettings = {}): LabCommand {
  return {
    name: 'hubble',
    summary: 'the Hubble UI on this machine: forwards http://localhost:12000 to the hubble-ui pod through the Kubernetes API (nothing opened to the internet); Ctrl-C stops it',
    options: {
      port: { type: 'string', description: 'the local port (127.0.0.1 only)', default: String(DEFAULT_HUBBLE_PORT) },
      ...KUBECONFIG_OPTION,
    },
    validate: validateKubeconfigOption,
    async run(ctx) {
      const portText = String(ctx.options['port'] ?? DEFAULT_HUBBLE_PORT);
      const localPort = Number(portText);
      if (!/^\d{1,5}$/.test(portText) || localPort > 65_535) throw new UsageError(`--port ${portText}: give a TCP port from 1 to 65535 (0: any free port)`);
      const target = await ctx.reporter.phase('find the lab', () => ctx.target(), (t) => t.stackName);
      const kube = await connectToCluster(ctx, settings, target);
      const backend = await ctx.reporter.phase('find the Hubble UI', () => hubbleUiBackend(kube), (b) => `${HUBBLE_UI_NAMESPACE}/${b.pod}:${b.port}`);

      const connections = new Set<Socket>();
      let forwarded = 0;
      const server = createServer((connection) => {
        connections.add(connection);
        connection.on('close', () => connections.delete(connection));
        connection.on('error', (error) => ctx.out.info(`connection closed: ${error.message}`));
        forwarded += 1;
        kube.forwardPort(HUBBLE_UI_NAMESPACE, backend.pod, backend.port, connection).catch((error: unknown) => {
          ctx.out.info(`port-forward failed: ${(error as Error).message}`);
          connection.destroy();
        });
      });
      await new Promise<void>((resolve, reject) => {
        server.once('error', (error: NodeJS.ErrnoException) =>
          reject(error.code === 'EADDRINUSE' ? new UsageError(`--port ${localPort}: already in use on 127.0.0.1; choose another (--port 12001)`) : error),
        );
        server.listen(localPort, '127.0.0.1', resolve);
      });
      const url = `http://localhost:${(server.address() as AddressInfo).port}`;
      ctx.out.info(`Hubble UI: ${url}  (forwarded to ${HUBBLE_UI_NAMESPACE}/${backend.pod}:${backend.port} through the Kubernetes API; Ctrl-C to stop)`);
      settings.onListening?.(url);

      const signals = settings.signals ?? process;
      const stopped = await new Promise<string>((resolve) => {
        const stop = (name: string) => () => {
          signals.off('SIGINT', onInt);
          signals.off('SIGTERM', onTerm);
          resolve(name);
        };
        const onInt = stop('SIGINT');
        const onTerm = stop('SIGTERM');
        signals.on('SIGINT', onInt);
        signals.on('SIGTERM', onTerm);
      });
      for (const c of connections) c.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      return { text: `Hubble UI forwarding stopped (${stopped}) after ${forwarded} connection(s).`, data: { url, pod: backend.pod, port: backend.port, connections: forwarded, stoppedBy: stopped } };
    },
  };
}
