CREATE TABLE "fine_tuning_checkpoints" (
	"id" text PRIMARY KEY NOT NULL,
	"job_id" text NOT NULL,
	"step" integer NOT NULL,
	"metrics" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "fine_tuning_events" (
	"id" text PRIMARY KEY NOT NULL,
	"job_id" text NOT NULL,
	"level" text NOT NULL,
	"type" text NOT NULL,
	"message" text NOT NULL,
	"data" jsonb,
	"dedupe_key" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "fine_tuning_jobs" (
	"id" text PRIMARY KEY NOT NULL,
	"org_id" text NOT NULL,
	"project_id" text NOT NULL,
	"key_id" text,
	"model" text NOT NULL,
	"base_source" text NOT NULL,
	"training_file" text NOT NULL,
	"validation_file" text,
	"method" text NOT NULL,
	"requested" jsonb NOT NULL,
	"hyperparameters" jsonb NOT NULL,
	"suffix" text,
	"seed" integer NOT NULL,
	"status" text NOT NULL,
	"pause_requested" integer DEFAULT 0 NOT NULL,
	"fine_tuned_model" text,
	"error" jsonb,
	"trained_tokens" bigint,
	"dataset" jsonb NOT NULL,
	"estimated_finish" timestamp with time zone,
	"node_id" text,
	"attempt" integer DEFAULT 0 NOT NULL,
	"engine_job_id" text,
	"progress" jsonb,
	"metadata" jsonb,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"started_at" timestamp with time zone,
	"finished_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "training_nodes" (
	"node_id" text PRIMARY KEY NOT NULL,
	"trainer" text NOT NULL,
	"slots" integer DEFAULT 1 NOT NULL,
	"seen_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "fine_tuning_checkpoints" ADD CONSTRAINT "fine_tuning_checkpoints_job_id_fine_tuning_jobs_id_fk" FOREIGN KEY ("job_id") REFERENCES "public"."fine_tuning_jobs"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "fine_tuning_events" ADD CONSTRAINT "fine_tuning_events_job_id_fine_tuning_jobs_id_fk" FOREIGN KEY ("job_id") REFERENCES "public"."fine_tuning_jobs"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "fine_tuning_checkpoints_step_uq" ON "fine_tuning_checkpoints" USING btree ("job_id","step");--> statement-breakpoint
CREATE INDEX "fine_tuning_events_job_idx" ON "fine_tuning_events" USING btree ("job_id","id");--> statement-breakpoint
CREATE UNIQUE INDEX "fine_tuning_events_dedupe_uq" ON "fine_tuning_events" USING btree ("job_id","dedupe_key");--> statement-breakpoint
CREATE INDEX "fine_tuning_jobs_project_idx" ON "fine_tuning_jobs" USING btree ("project_id","id");--> statement-breakpoint
CREATE INDEX "fine_tuning_jobs_node_idx" ON "fine_tuning_jobs" USING btree ("node_id");