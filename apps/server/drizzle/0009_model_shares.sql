CREATE TABLE "model_shares" (
	"id" text PRIMARY KEY NOT NULL,
	"model_id" text NOT NULL,
	"owner_org_id" text NOT NULL,
	"consumer_org_id" text NOT NULL,
	"status" text DEFAULT 'offered' NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "model_shares" ADD CONSTRAINT "model_shares_model_id_models_id_fk" FOREIGN KEY ("model_id") REFERENCES "public"."models"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "model_shares" ADD CONSTRAINT "model_shares_owner_org_id_orgs_id_fk" FOREIGN KEY ("owner_org_id") REFERENCES "public"."orgs"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "model_shares" ADD CONSTRAINT "model_shares_consumer_org_id_orgs_id_fk" FOREIGN KEY ("consumer_org_id") REFERENCES "public"."orgs"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "model_shares_model_consumer_uq" ON "model_shares" USING btree ("model_id","consumer_org_id");--> statement-breakpoint
CREATE INDEX "model_shares_owner_idx" ON "model_shares" USING btree ("owner_org_id");--> statement-breakpoint
CREATE INDEX "model_shares_consumer_idx" ON "model_shares" USING btree ("consumer_org_id");--> statement-breakpoint
-- access.orgs no longer grants anything: each org it listed gets an offer it has to accept.
INSERT INTO "model_shares" ("id", "model_id", "owner_org_id", "consumer_org_id", "status")
SELECT 'shr_' || replace(gen_random_uuid()::text, '-', ''), m."id", m."org_id", o."id", 'offered'
FROM "models" m
CROSS JOIN LATERAL jsonb_array_elements_text(CASE WHEN jsonb_typeof(m."access"->'orgs') = 'array' THEN m."access"->'orgs' ELSE '[]'::jsonb END) AS a("org_id")
JOIN "orgs" o ON o."id" = a."org_id" AND o."id" <> m."org_id"
ON CONFLICT DO NOTHING;--> statement-breakpoint
UPDATE "models" SET "access" = "access" - 'orgs' WHERE "access" ? 'orgs';
