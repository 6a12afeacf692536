import { join } from "node:path";

export interface NginxConfigInput {
  /** The run folder of nginx (its temp files and logs go under it). */
  dir: string;
  apiPort: number;
  notifierPort: number;
  apiUpstreams: readonly string[];
  notifierUpstreams: readonly string[];
  /** Largest request body passed on; above the API's own limit, so the API answers with its envelope. */
  maxBodyBytes: number;
}

/**
 * nginx in front of the instances, round robin, no stickiness. An instance that refuses connections
 * is taken out for 2 s and the request goes to the next one: nginx passes any request on when it
 * could not be sent, and, for idempotent methods, also when the instance failed mid-way. A POST whose
 * instance died after receiving it is not passed on (it may have run): the client retries it with its
 * Idempotency-Key. The notifier port carries WebSocket upgrades and long polls.
 */
export function nginxConfig(input: NginxConfigInput): string {
  const upstream = (name: string, servers: readonly string[], keepalive: boolean) =>
    [
      `  upstream ${name} {`,
      ...servers.map((server) => `    server ${server} max_fails=1 fail_timeout=2s;`),
      // Idle upstream connections are closed by nginx before Node's server does (its keep-alive
      // timeout is 5 s): else nginx may send a request on a socket Node is closing, and a POST that
      // met a closed socket is answered 502 (nginx will not resend a non-idempotent request).
      ...(keepalive ? ["    keepalive 64;", "    keepalive_timeout 4s;"] : []),
      "  }",
    ].join("\n");
  const temp = (name: string) => join(input.dir, "tmp", name);
  return `# Written by scripts/src/scaled/nginx-config.ts for npm run start:scaled; rewritten at each start.
worker_processes 1;
error_log ${join(input.dir, "error.log")} warn;
events {
  worker_connections 8192;
}
http {
  access_log off;
  client_body_temp_path ${temp("body")};
  proxy_temp_path ${temp("proxy")};
  fastcgi_temp_path ${temp("fastcgi")};
  uwsgi_temp_path ${temp("uwsgi")};
  scgi_temp_path ${temp("scgi")};
  client_max_body_size ${input.maxBodyBytes};
  map $http_upgrade $connection_upgrade {
    default upgrade;
    '' close;
  }
${upstream("wsync_api", input.apiUpstreams, true)}
${upstream("wsync_notifier", input.notifierUpstreams, false)}
  server {
    listen 127.0.0.1:${input.apiPort};
    location / {
      proxy_pass http://wsync_api;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $http_host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_connect_timeout 2s;
      proxy_read_timeout 60s;
      proxy_next_upstream error timeout http_502 http_503;
      proxy_next_upstream_tries 2;
    }
  }
  server {
    listen 127.0.0.1:${input.notifierPort};
    location / {
      proxy_pass http://wsync_notifier;
      proxy_http_version 1.1;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection $connection_upgrade;
      proxy_set_header Host $http_host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_buffering off;
      proxy_connect_timeout 2s;
      # Long polls wait up to a minute; sockets live as long as the client keeps pinging.
      proxy_read_timeout 3600s;
      proxy_send_timeout 3600s;
    }
  }
}
`;
}
