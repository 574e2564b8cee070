import { ProConfigProvider } from '@ant-design/pro-components';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { App as AntApp, ConfigProvider, theme } from 'antd';
import enUS from 'antd/locale/en_US';
import zhCN from 'antd/locale/zh_CN';
import { lazy, type ReactNode } from 'react';
import { BrowserRouter, Navigate, Route, Routes, useLocation } from 'react-router';
import { ApiError } from './api/client.ts';
import { AuthProvider, useAuth } from './auth/auth.tsx';
import { I18nProvider, useI18n } from './i18n/index.tsx';
import { AppLayout } from './layout/app-layout.tsx';
import { prefersReducedMotion, ThemeModeProvider, useThemeMode } from './lib/theme.tsx';
import { LoginPage } from './pages/login.tsx';

const OverviewPage = lazy(() => import('./pages/overview.tsx'));
const UsagePage = lazy(() => import('./pages/usage.tsx'));
const PlaygroundPage = lazy(() => import('./pages/playground.tsx'));
const KeysPage = lazy(() => import('./pages/keys.tsx'));
const ModelsPage = lazy(() => import('./pages/models.tsx'));
const ProvidersPage = lazy(() => import('./pages/providers.tsx'));
const ProjectsPage = lazy(() => import('./pages/projects.tsx'));
const MembersPage = lazy(() => import('./pages/members.tsx'));
const RolesPage = lazy(() => import('./pages/roles.tsx'));
const OrgsPage = lazy(() => import('./pages/orgs.tsx'));
const AuditPage = lazy(() => import('./pages/audit.tsx'));
const FilesPage = lazy(() => import('./pages/files.tsx'));
const BatchesPage = lazy(() => import('./pages/batches.tsx'));
const AsyncJobsPage = lazy(() => import('./pages/jobs.tsx'));
const KnowledgePage = lazy(() => import('./pages/knowledge.tsx'));
const FineTuningPage = lazy(() => import('./pages/fine-tuning.tsx'));
const WebhooksPage = lazy(() => import('./pages/webhooks.tsx'));
const NotFoundPage = lazy(() => import('./pages/not-found.tsx'));
const ProfilePage = lazy(() => import('./pages/profile.tsx'));
const IdentityProvidersPage = lazy(() => import('./pages/identity-providers.tsx'));
const InvitePage = lazy(() => import('./pages/invite.tsx'));
const FleetPage = lazy(() => import('./pages/fleet.tsx'));
const DeploymentsPage = lazy(() => import('./pages/deployments.tsx'));
const ReplicasPage = lazy(() => import('./pages/replicas.tsx'));

const queryClient = new QueryClient({
  defaultOptions: {
    queries: {
      staleTime: 15_000,
      refetchOnWindowFocus: false,
      // a missing route, a refusal or a bad request will not get better by asking again
      retry: (count, err) => count < 2 && !(err instanceof ApiError && err.status >= 400 && err.status < 500),
    },
  },
});

function RequireAuth({ children }: { children: ReactNode }) {
  const { session, restoring } = useAuth();
  const location = useLocation();
  if (restoring) return null;
  if (!session) {
    const next =
      location.pathname === '/' ? '' : `?next=${encodeURIComponent(location.pathname + location.search)}`;
    return <Navigate to={`/login${next}`} replace />;
  }
  return children;
}

function Themed({ children }: { children: ReactNode }) {
  const { lang } = useI18n();
  const { isDark } = useThemeMode();
  return (
    <ConfigProvider
      locale={lang === 'zh' ? zhCN : enUS}
      theme={{
        algorithm: isDark ? theme.darkAlgorithm : theme.defaultAlgorithm,
        token: { colorPrimary: '#4f7cff', borderRadius: 8, fontSize: 14, motion: !prefersReducedMotion() },
        components: { Card: { headerFontSize: 15 } },
      }}
    >
      <ProConfigProvider dark={isDark} hashed={false}>
        <AntApp>{children}</AntApp>
      </ProConfigProvider>
    </ConfigProvider>
  );
}

export function ConsoleApp() {
  return (
    <QueryClientProvider client={queryClient}>
      <I18nProvider>
        <ThemeModeProvider>
          <Themed>
            <BrowserRouter>
              <AuthProvider>
                <Routes>
                  <Route path="/login" element={<LoginPage />} />
                  <Route path="/invite" element={<InvitePage />} />
                  <Route
                    element={
                      <RequireAuth>
                        <AppLayout />
                      </RequireAuth>
                    }
                  >
                    <Route index element={<OverviewPage />} />
                    <Route path="usage" element={<UsagePage />} />
                    <Route path="playground" element={<PlaygroundPage />} />
                    <Route path="keys" element={<KeysPage />} />
                    <Route path="models" element={<ModelsPage />} />
                    <Route path="providers" element={<ProvidersPage />} />
                    <Route path="fleet" element={<FleetPage />} />
                    <Route path="deployments" element={<DeploymentsPage />} />
                    <Route path="replicas" element={<ReplicasPage />} />
                    <Route path="files" element={<FilesPage />} />
                    <Route path="batches" element={<BatchesPage />} />
                    <Route path="jobs" element={<AsyncJobsPage />} />
                    <Route path="knowledge" element={<KnowledgePage />} />
                    <Route path="fine-tuning" element={<FineTuningPage />} />
                    <Route path="webhooks" element={<WebhooksPage />} />
                    <Route path="projects" element={<ProjectsPage />} />
                    <Route path="members" element={<MembersPage />} />
                    <Route path="roles" element={<RolesPage />} />
                    <Route path="orgs" element={<OrgsPage />} />
                    <Route path="audit" element={<AuditPage />} />
                    <Route path="profile" element={<ProfilePage />} />
                    <Route path="identity-providers" element={<IdentityProvidersPage />} />
                    <Route path="*" element={<NotFoundPage />} />
                  </Route>
                </Routes>
              </AuthProvider>
            </BrowserRouter>
          </Themed>
        </ThemeModeProvider>
      </I18nProvider>
    </QueryClientProvider>
  );
}
