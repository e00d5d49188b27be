/** The readers of whoami, cilium-dbg status, hubble observe and the request loop. */
import { parseCiliumStatus, parseHubbleFlows, parseWhoami, stripPort } from '../../lib/checks/parsers.js';
import { parseRequestLoop } from '../../lib/checks/scenarios/pod-to-clusterip.js';
import { agentStatusJson, hubbleFlowLine } from './lab-world.js';

describe('parseWhoami', () => {
  it('reads the hostname, the IPs and the peer address without its port', () => {
    const answer = parseWhoami('Hostname: webpod1\nIP: 127.0.0.1\nIP: 172.16.1.12\nRemoteAddr: 172.16.0.11:51234\nGET / HTTP/1.1\nHost: 10.10.0.10\n');
    expect(answer).toEqual({ hostname: 'webpod1', ips: ['127.0.0.1', '172.16.1.12'], remoteIp: '172.16.0.11' });
  });

  it('finds no answer in an error page', () => {
    expect(parseWhoami('<html>502 Bad Gateway</html>')).toBeUndefined();
  });

  it('strips ports from IPv4 and bracketed IPv6 peers', () => {
    expect(stripPort('172.16.0.5:80')).toBe('172.16.0.5');
    expect(stripPort('[fd00::5]:80')).toBe('fd00::5');
  });
});

describe('parseCiliumStatus', () => {
  it('reads KPR, routing, masquerading and XDP from the StatusResponse document', () => {
    const text = JSON.stringify(agentStatusJson({ kpr: 'True', interHost: 'Native', intraHost: 'BPF', masqMode: 'BPF', acceleration: 'Native' }, 'k8s-s'));
    expect(parseCiliumStatus(text)).toEqual({
      kubeProxyReplacement: 'True',
      interHostRouting: 'Native',
      intraHostRouting: 'BPF',
      masqueradingEnabled: true,
      masqueradingMode: 'BPF',
      nodePortAcceleration: 'Native',
      socketLb: true,
      hostPort: true,
    });
  });

  it('refuses text that is not JSON', () => {
    expect(() => parseCiliumStatus('Error: cannot reach the agent')).toThrow(/printed no JSON/);
  });
});

describe('parseHubbleFlows', () => {
  it('reads source and destination pods and skips lines that are not flows', () => {
    const line = hubbleFlowLine({ ns: 'cilium-lab-check', pod: 'netpod', ip: '172.16.0.11', node: 'k8s-s' }, { ns: 'cilium-lab-check', pod: 'webpod1', ip: '172.16.1.12' });
    const flows = parseHubbleFlows(`${line}\nnot json\n{"node_name":"k8s-s"}\n`);
    expect(flows).toEqual([{ source: 'cilium-lab-check/netpod', destination: 'cilium-lab-check/webpod1', verdict: 'FORWARDED', summary: 'TCP Flags: SYN' }]);
  });
});

describe('parseRequestLoop', () => {
  it('splits the loop output into answers with curl exit codes', () => {
    const out = '=== request 1\nHostname: webpod1\nRemoteAddr: 172.16.0.11:1\n=== exit 0\n=== request 2\ncurl: (28) Connection timed out\n=== exit 28\n';
    expect(parseRequestLoop(out).map((a) => [a.exitCode, a.hostname, a.remoteIp])).toEqual([
      [0, 'webpod1', '172.16.0.11'],
      [28, undefined, undefined],
    ]);
  });
});

describe('the ClusterIP request loop', () => {
  it('gets an exec budget that outlasts every request timing out, whatever the default exec timeout', async () => {
    const { CLUSTERIP_REQUEST_SECONDS, requestLoop, requestLoopTimeoutMs } = await import('../../lib/checks/scenarios/pod-to-clusterip.js');
    const worstCaseMs = 20 * CLUSTERIP_REQUEST_SECONDS * 1000;
    expect(requestLoop('http://10.10.0.5:80/', 20)[2]).toContain(`--max-time ${CLUSTERIP_REQUEST_SECONDS} `);
    for (const base of [3_000, 60_000]) expect(requestLoopTimeoutMs(20, base)).toBeGreaterThanOrEqual(worstCaseMs + 10_000);
    expect(requestLoopTimeoutMs(20, 600_000)).toBe(600_000);
  });
});
