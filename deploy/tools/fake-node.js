// fake-node.js: a stand-in for `ciak serve` behind nginx in tests/cli/deploy.sh, answering
// the routes nginx.conf routes with the headers ciak sends, so that the test can check what
// nginx does with them (which node a link reaches, what is cached, failover, the log) without
// rendering anything. Not a mock of ciak's behaviour beyond that.
//   node fake-node.js NAME PORT_FILE     listens on 127.0.0.1, a free port written to PORT_FILE
// GET /__count?path=P says how many requests for P this node has answered.
import { createServer } from "node:http";
import { writeFileSync } from "node:fs";

const [name, portFile] = process.argv.slice(2);
const counts = new Map();

const server = createServer((req, res) => {
  const url = new URL(req.url, "http://x");
  if (url.pathname === "/__count") {
    res.end(String(counts.get(url.searchParams.get("path")) ?? 0));
    return;
  }
  counts.set(url.pathname, (counts.get(url.pathname) ?? 0) + 1);
  res.setHeader("X-Ciak-Node", name);
  const answer = (status, cache, body, delayMs = 0) =>
    setTimeout(() => {
      res.statusCode = status;
      if (cache) res.setHeader("Cache-Control", cache);
      res.end(body);
    }, delayMs);
  if (url.pathname === "/healthz") return answer(200, "no-store", "ok\n");
  if (url.pathname.startsWith("/v/")) {
    if (req.method === "POST") return req.resume().on("end", () => answer(204, "no-store", ""));
    return answer(200, "private, max-age=31536000, immutable", `personal ${url.pathname} from ${name}\n`, 50);
  }
  // A shared segment takes a while to render: the cache lock must hold the other requests.
  if (url.pathname.startsWith("/c/")) return answer(200, "public, max-age=31536000, immutable", `shared ${url.pathname}\n`, 500);
  if (url.pathname.startsWith("/admin") || url.pathname.startsWith("/static/")) return answer(200, "no-store", "page\n");
  if (url.pathname === "/metrics") return answer(200, "no-store", "ciak_up 1\n");
  return answer(404, "no-store", "");
});
server.keepAliveTimeout = 15000;
server.listen(0, "127.0.0.1", () => writeFileSync(portFile, `${server.address().port}\n`));
