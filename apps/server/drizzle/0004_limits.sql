CREATE TABLE "limit_notifications" (
	"id" text PRIMARY KEY NOT NULL,
	"org_id" text NOT NULL,
	"policy_id" text NOT NULL,
	"scope" text NOT NULL,
	"scope_id" text NOT NULL,
	"model" text,
	"metric" text NOT NULL,
	"period" text NOT NULL,
	"period_start" timestamp with time zone NOT NULL,
	"threshold" double precision NOT NULL,
	"limit" double precision NOT NULL,
	"used" double precision NOT NULL,
	"webhook_status" text DEFAULT 'none' NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "limit_policies" (
	"id" text PRIMARY KEY NOT NULL,
	"org_id" text NOT NULL,
	"scope" text NOT NULL,
	"scope_id" text NOT NULL,
	"model" text,
	"rpm" integer,
	"rpd" integer,
	"tpm" bigint,
	"tpd" bigint,
	"max_concurrent" integer,
	"token_quota" bigint,
	"quota_period" text,
	"budget" numeric(20, 6),
	"budget_period" text,
	"soft_threshold" double precision,
	"webhook_url" text,
	"description" text,
	"created_by" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "limit_policies_subject_uq" UNIQUE NULLS NOT DISTINCT("scope","scope_id","model")
);
--> statement-breakpoint
ALTER TABLE "limit_notifications" ADD CONSTRAINT "limit_notifications_org_id_orgs_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."orgs"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "limit_policies" ADD CONSTRAINT "limit_policies_org_id_orgs_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."orgs"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "limit_notifications_once_uq" ON "limit_notifications" USING btree ("policy_id","metric","period_start","limit");--> statement-breakpoint
CREATE INDEX "limit_notifications_org_idx" ON "limit_notifications" USING btree ("org_id","id");--> statement-breakpoint
CREATE INDEX "limit_policies_org_idx" ON "limit_policies" USING btree ("org_id","id");