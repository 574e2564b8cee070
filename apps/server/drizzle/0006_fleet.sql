CREATE TABLE "deployments" (
	"id" text PRIMARY KEY NOT NULL,
	"org_id" text NOT NULL,
	"name" text NOT NULL,
	"replicas" integer NOT NULL,
	"placement" jsonb NOT NULL,
	"revision" integer DEFAULT 1 NOT NULL,
	"spec" jsonb NOT NULL,
	"previous_spec" jsonb,
	"canary" jsonb,
	"status" text DEFAULT 'active' NOT NULL,
	"model_id" text,
	"created_by" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "join_tokens" (
	"id" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"prefix" text NOT NULL,
	"token_hash" text NOT NULL,
	"labels" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"max_uses" integer,
	"uses" integer DEFAULT 0 NOT NULL,
	"expires_at" timestamp with time zone,
	"revoked_at" timestamp with time zone,
	"created_by" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "join_tokens_token_hash_unique" UNIQUE("token_hash")
);
--> statement-breakpoint
CREATE TABLE "nodes" (
	"id" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"hostname" text DEFAULT '' NOT NULL,
	"address" text DEFAULT '' NOT NULL,
	"labels" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"status" text DEFAULT 'ready' NOT NULL,
	"schedulable" boolean DEFAULT true NOT NULL,
	"draining" boolean DEFAULT false NOT NULL,
	"resources" jsonb,
	"runtimes" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"files" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"model_dirs" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"port_from" integer DEFAULT 40000 NOT NULL,
	"port_to" integer DEFAULT 40999 NOT NULL,
	"agent_version" text,
	"token_hash" text,
	"join_token_id" text,
	"local" boolean DEFAULT false NOT NULL,
	"last_heartbeat_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "nodes_name_unique" UNIQUE("name")
);
--> statement-breakpoint
CREATE TABLE "replicas" (
	"id" text PRIMARY KEY NOT NULL,
	"org_id" text NOT NULL,
	"deployment_id" text NOT NULL,
	"revision" integer NOT NULL,
	"spec" jsonb NOT NULL,
	"node_id" text,
	"state" text DEFAULT 'pending' NOT NULL,
	"reason" text,
	"desired" text DEFAULT 'run' NOT NULL,
	"port" integer,
	"gpu_indexes" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"memory_bytes" bigint DEFAULT 0 NOT NULL,
	"restarts" integer DEFAULT 0 NOT NULL,
	"progress" jsonb,
	"log_tail" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"excluded_nodes" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"replaces" text,
	"endpoint" text,
	"provider_id" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"started_at" timestamp with time zone
);
--> statement-breakpoint
ALTER TABLE "deployments" ADD CONSTRAINT "deployments_org_id_orgs_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."orgs"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "replicas" ADD CONSTRAINT "replicas_deployment_id_deployments_id_fk" FOREIGN KEY ("deployment_id") REFERENCES "public"."deployments"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "replicas" ADD CONSTRAINT "replicas_node_id_nodes_id_fk" FOREIGN KEY ("node_id") REFERENCES "public"."nodes"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "deployments_org_name_uq" ON "deployments" USING btree ("org_id","name");--> statement-breakpoint
CREATE INDEX "replicas_deployment_idx" ON "replicas" USING btree ("deployment_id");--> statement-breakpoint
CREATE INDEX "replicas_node_idx" ON "replicas" USING btree ("node_id");