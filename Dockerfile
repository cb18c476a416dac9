# syntax=docker/dockerfile:1
# The jnsq node image: built from this repository in a JDK stage, run on a JRE as a non-root user.
#   docker build -t jnsq:0.1.0 .
#   docker run --rm -p 4150:4150 -p 4151:4151 -p 4161:4161 -p 4171:4171 -v jnsq-data:/var/lib/jnsq jnsq:0.1.0
# Flags after the image name replace the default command (see the README, "Containers and Kubernetes").

FROM maven:3.9-eclipse-temurin-17 AS build
WORKDIR /src
# Dependencies first, so a change to the sources does not download them again.
COPY pom.xml .
RUN mvn -B -q dependency:go-offline
COPY src ./src
RUN mvn -B -q -DskipTests package

FROM eclipse-temurin:17-jre
RUN groupadd --system --gid 10001 jnsq \
 && useradd --system --uid 10001 --gid jnsq --home-dir /var/lib/jnsq --shell /usr/sbin/nologin jnsq \
 && mkdir -p /var/lib/jnsq /etc/jnsq \
 && chown jnsq:jnsq /var/lib/jnsq
COPY --from=build /src/target/jnsq.jar /opt/jnsq/jnsq.jar
COPY config/jnsq.conf /etc/jnsq/jnsq.conf
# bin/jnsq's JVM defaults; replace with -e JAVA_OPTS=... (the Kubernetes manifest sizes them to its limits).
ENV JAVA_OPTS="-Xms64m -Xmx1g -Xmn32m -XX:+UseSerialGC -XX:+ExitOnOutOfMemoryError"
USER 10001:10001
WORKDIR /var/lib/jnsq
# Disk queues, nsqd.dat and jnsq.lock: keep them on a volume so a new container finds them.
VOLUME ["/var/lib/jnsq"]
# TCP, HTTP, HTTPS (with --tls-cert), lookup TCP and HTTP, admin UI, cluster.
EXPOSE 4150 4151 4152 4160 4161 4171 7350
# Healthy while /ping answers 200 (it answers 500 while a disk write fails); bash's /dev/tcp, since
# the JRE image needs no HTTP client for it.
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/4151 && printf 'GET /ping HTTP/1.0\\r\\nHost: localhost\\r\\n\\r\\n' >&3 && head -n 1 <&3 | grep -q ' 200 '"]
# SIGTERM (docker stop) runs the node's orderly shutdown: give it time (docker stop -t 120).
STOPSIGNAL SIGTERM
ENTRYPOINT ["sh", "-c", "exec java $JAVA_OPTS -jar /opt/jnsq/jnsq.jar \"$@\"", "jnsq"]
CMD ["node", "--config", "/etc/jnsq/jnsq.conf", "--data-path", "/var/lib/jnsq"]
