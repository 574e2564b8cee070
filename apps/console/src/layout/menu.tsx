import {
  ApartmentOutlined,
  ApiOutlined,
  AuditOutlined,
  BarChartOutlined,
  BlockOutlined,
  BookOutlined,
  CloudServerOutlined,
  ClusterOutlined,
  DashboardOutlined,
  DeploymentUnitOutlined,
  ExperimentOutlined,
  FieldTimeOutlined,
  FolderOpenOutlined,
  KeyOutlined,
  NotificationOutlined,
  ProjectOutlined,
  SafetyCertificateOutlined,
  ScheduleOutlined,
  TeamOutlined,
  ThunderboltOutlined,
} from '@ant-design/icons';
import type { ReactNode } from 'react';
import type { MessageKey } from '../i18n/index.tsx';

export interface MenuEntry {
  path: string;
  label: MessageKey;
  icon: ReactNode;
  group: 'observe' | 'build' | 'govern';
}

export const MENU: MenuEntry[] = [
  { path: '/', label: 'nav.overview', icon: <DashboardOutlined />, group: 'observe' },
  { path: '/usage', label: 'nav.usage', icon: <BarChartOutlined />, group: 'observe' },
  { path: '/playground', label: 'nav.playground', icon: <ExperimentOutlined />, group: 'build' },
  { path: '/keys', label: 'nav.keys', icon: <KeyOutlined />, group: 'build' },
  { path: '/models', label: 'nav.models', icon: <ApiOutlined />, group: 'build' },
  { path: '/providers', label: 'nav.providers', icon: <CloudServerOutlined />, group: 'build' },
  { path: '/fleet', label: 'nav.fleet', icon: <ClusterOutlined />, group: 'build' },
  { path: '/deployments', label: 'nav.deployments', icon: <DeploymentUnitOutlined />, group: 'build' },
  { path: '/replicas', label: 'nav.replicas', icon: <BlockOutlined />, group: 'build' },
  { path: '/files', label: 'nav.files', icon: <FolderOpenOutlined />, group: 'build' },
  { path: '/batches', label: 'nav.batches', icon: <ScheduleOutlined />, group: 'build' },
  { path: '/jobs', label: 'nav.async_jobs', icon: <FieldTimeOutlined />, group: 'build' },
  { path: '/knowledge', label: 'nav.knowledge', icon: <BookOutlined />, group: 'build' },
  { path: '/fine-tuning', label: 'nav.fine_tuning', icon: <ThunderboltOutlined />, group: 'build' },
  { path: '/webhooks', label: 'nav.webhooks', icon: <NotificationOutlined />, group: 'build' },
  { path: '/projects', label: 'nav.projects', icon: <ProjectOutlined />, group: 'govern' },
  { path: '/members', label: 'nav.members', icon: <TeamOutlined />, group: 'govern' },
  { path: '/roles', label: 'nav.roles', icon: <SafetyCertificateOutlined />, group: 'govern' },
  { path: '/orgs', label: 'nav.orgs', icon: <ApartmentOutlined />, group: 'govern' },
  { path: '/audit', label: 'nav.audit', icon: <AuditOutlined />, group: 'govern' },
];
