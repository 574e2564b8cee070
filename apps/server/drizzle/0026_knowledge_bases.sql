-- pgvector: PGlite loads it (db/pglite-worker.mjs); PostgreSQL needs the package (.ci/install-pgvector.sh)
CREATE EXTENSION IF NOT EXISTS vector;--> statement-breakpoint
CREATE TABLE "knowledge_chunks" (
	"id" text PRIMARY KEY NOT NULL,
	"store_id" text NOT NULL,
	"file_id" text NOT NULL,
	"position" integer NOT NULL,
	"text" text NOT NULL,
	"tokens" integer NOT NULL,
	"dims" integer NOT NULL,
	"embedding" vector NOT NULL
);
--> statement-breakpoint
CREATE TABLE "vector_store_file_batches" (
	"id" text PRIMARY KEY NOT NULL,
	"vector_store_id" text NOT NULL,
	"org_id" text NOT NULL,
	"project_id" text NOT NULL,
	"cancelled_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "vector_store_files" (
	"vector_store_id" text NOT NULL,
	"file_id" text NOT NULL,
	"org_id" text NOT NULL,
	"project_id" text NOT NULL,
	"filename" text NOT NULL,
	"attributes" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"chunking" jsonb NOT NULL,
	"status" text NOT NULL,
	"last_error" jsonb,
	"stages" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"generation" integer DEFAULT 0 NOT NULL,
	"job_id" text,
	"batch_id" text,
	"usage_bytes" bigint DEFAULT 0 NOT NULL,
	"chunk_count" integer DEFAULT 0 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "vector_store_files_vector_store_id_file_id_pk" PRIMARY KEY("vector_store_id","file_id")
);
--> statement-breakpoint
CREATE TABLE "vector_stores" (
	"id" text PRIMARY KEY NOT NULL,
	"org_id" text NOT NULL,
	"project_id" text NOT NULL,
	"name" text,
	"description" text,
	"embedding_model" text NOT NULL,
	"dimensions" integer,
	"chunking" jsonb NOT NULL,
	"generation" integer DEFAULT 0 NOT NULL,
	"retrieval" jsonb NOT NULL,
	"metadata" jsonb,
	"expires_after" jsonb,
	"expires_at" timestamp with time zone,
	"last_active_at" timestamp with time zone DEFAULT now() NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "knowledge_chunks" ADD CONSTRAINT "knowledge_chunks_file_fk" FOREIGN KEY ("store_id","file_id") REFERENCES "public"."vector_store_files"("vector_store_id","file_id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "vector_store_file_batches" ADD CONSTRAINT "vector_store_file_batches_vector_store_id_vector_stores_id_fk" FOREIGN KEY ("vector_store_id") REFERENCES "public"."vector_stores"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "vector_store_files" ADD CONSTRAINT "vector_store_files_vector_store_id_vector_stores_id_fk" FOREIGN KEY ("vector_store_id") REFERENCES "public"."vector_stores"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "vector_stores" ADD CONSTRAINT "vector_stores_org_id_orgs_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."orgs"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "knowledge_chunks_file_idx" ON "knowledge_chunks" USING btree ("store_id","file_id","position");--> statement-breakpoint
CREATE INDEX "knowledge_chunks_hnsw_256" ON "knowledge_chunks" USING hnsw ((embedding::vector(256)) vector_cosine_ops) WHERE dims = 256;--> statement-breakpoint
CREATE INDEX "knowledge_chunks_hnsw_384" ON "knowledge_chunks" USING hnsw ((embedding::vector(384)) vector_cosine_ops) WHERE dims = 384;--> statement-breakpoint
CREATE INDEX "knowledge_chunks_hnsw_512" ON "knowledge_chunks" USING hnsw ((embedding::vector(512)) vector_cosine_ops) WHERE dims = 512;--> statement-breakpoint
CREATE INDEX "knowledge_chunks_hnsw_768" ON "knowledge_chunks" USING hnsw ((embedding::vector(768)) vector_cosine_ops) WHERE dims = 768;--> statement-breakpoint
CREATE INDEX "knowledge_chunks_hnsw_1024" ON "knowledge_chunks" USING hnsw ((embedding::vector(1024)) vector_cosine_ops) WHERE dims = 1024;--> statement-breakpoint
CREATE INDEX "knowledge_chunks_hnsw_1536" ON "knowledge_chunks" USING hnsw ((embedding::vector(1536)) vector_cosine_ops) WHERE dims = 1536;--> statement-breakpoint
CREATE INDEX "vector_store_files_status_idx" ON "vector_store_files" USING btree ("vector_store_id","status");--> statement-breakpoint
CREATE INDEX "vector_store_files_batch_idx" ON "vector_store_files" USING btree ("batch_id");--> statement-breakpoint
CREATE INDEX "vector_stores_project_idx" ON "vector_stores" USING btree ("org_id","project_id","id");