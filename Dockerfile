# The K2 supervisor image used by docker-compose.yml.
FROM node:22-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build && npm prune --omit=dev

FROM node:22-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
# One glibc malloc arena for every thread: the pool threads' freed buffers stay reusable instead of
# pinning an arena each (bench:e2e: peak RSS -40 to -55 MiB, no change in rate; README, Performance).
ENV MALLOC_ARENA_MAX=1
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY schemas ./schemas
USER node
EXPOSE 9464
CMD ["node", "dist/supervisor.js"]
