CREATE TABLE "responses" (
	"id" text PRIMARY KEY NOT NULL,
	"org_id" text NOT NULL,
	"project_id" text NOT NULL,
	"key_id" text NOT NULL,
	"model" text NOT NULL,
	"status" text NOT NULL,
	"background" boolean DEFAULT false NOT NULL,
	"previous_response_id" text,
	"job_id" text,
	"request" jsonb NOT NULL,
	"input_items" jsonb NOT NULL,
	"output" jsonb NOT NULL,
	"usage" jsonb,
	"error" jsonb,
	"incomplete_details" jsonb,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"completed_at" timestamp with time zone,
	"expires_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE INDEX "responses_owner_idx" ON "responses" USING btree ("org_id","project_id","id");--> statement-breakpoint
CREATE INDEX "responses_expires_idx" ON "responses" USING btree ("expires_at");