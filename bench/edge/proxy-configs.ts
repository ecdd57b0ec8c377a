// nginx and HAProxy set up as a fair comparison: one worker/thread, keep-alive to the backend,
// and the same forwarding headers berth's edge adds (X-Forwarded-For, -Proto, -Host, -Port), so
// the backend parses the same request behind each.

export function nginxConfig(dir: string, listen: number, backend: number): string {
  return `worker_processes 1;
daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/nginx-error.log;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${dir}/nginx-body;
  proxy_temp_path ${dir}/nginx-proxy;
  fastcgi_temp_path ${dir}/nginx-fastcgi;
  uwsgi_temp_path ${dir}/nginx-uwsgi;
  scgi_temp_path ${dir}/nginx-scgi;
  upstream backend { server 127.0.0.1:${backend}; keepalive 128; }
  server {
    listen 127.0.0.1:${listen} reuseport;
    location / {
      proxy_pass http://backend;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto $scheme;
      proxy_set_header X-Forwarded-Host $http_host;  # with its port, as berth and HAProxy send it
      proxy_set_header X-Forwarded-Port $server_port;
    }
  }
}
`;
}

export function haproxyConfig(listen: number, backend: number): string {
  return `global
  nbthread 1
  maxconn 4000
defaults
  mode http
  timeout connect 5s
  timeout client 30s
  timeout server 30s
  option http-keep-alive
  option forwardfor
frontend edge
  bind 127.0.0.1:${listen}
  http-request set-header X-Forwarded-Proto http
  http-request set-header X-Forwarded-Host %[req.hdr(host)]
  http-request set-header X-Forwarded-Port %[dst_port]
  default_backend instances
backend instances
  http-reuse always
  server bench-1 127.0.0.1:${backend}
`;
}
