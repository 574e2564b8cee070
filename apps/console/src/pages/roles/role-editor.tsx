import { ModalForm, ProFormText, ProFormTextArea } from '@ant-design/pro-components';
import { Checkbox, Col, Form, Row, Typography } from 'antd';
import type { ReactElement } from 'react';
import { api } from '../../api/client.ts';
import { succeeded, useApiMutation } from '../../api/mutation.ts';
import { useT } from '../../i18n/index.tsx';
import { type PermissionInfo, type RoleRow, usePermissionCatalogue } from './role-api.ts';

interface RoleForm {
  name: string;
  description?: string;
  permissions: string[];
}

/** The catalogue as checkboxes, one group per area; permissions the editor lacks are disabled. */
function PermissionChecks({ held }: { held: ReadonlySet<string> }) {
  const t = useT();
  const catalogue = usePermissionCatalogue();
  const areas = new Map<string, PermissionInfo[]>();
  for (const p of catalogue.data ?? []) areas.set(p.area, [...(areas.get(p.area) ?? []), p]);
  return (
    <Form.Item name="permissions" label={t('roles.permissions')}>
      <Checkbox.Group style={{ width: '100%' }}>
        <Row gutter={[16, 12]}>
          {[...areas.entries()].map(([area, perms]) => (
            <Col span={12} key={area} data-testid={`perm-area-${area}`}>
              <Typography.Text strong>{t(`roles.area.${area}` as never)}</Typography.Text>
              {perms.map((p) => (
                <div key={p.name}>
                  <Checkbox value={p.name} disabled={!held.has(p.name)} data-testid={`perm-${p.name}`}>
                    <code>{p.name}</code>
                  </Checkbox>
                  <Typography.Text
                    type="secondary"
                    style={{ fontSize: 12, display: 'block', marginLeft: 24 }}
                  >
                    {p.description}
                  </Typography.Text>
                </div>
              ))}
            </Col>
          ))}
        </Row>
      </Checkbox.Group>
    </Form.Item>
  );
}

/** Create a custom role, or edit one (`role`); `trigger` opens it. */
export function RoleEditor({
  role,
  held,
  trigger,
}: {
  role?: RoleRow;
  held: ReadonlySet<string>;
  trigger: ReactElement;
}) {
  const t = useT();
  const save = useApiMutation(
    (v: RoleForm) =>
      role
        ? api.patch<RoleRow>(`/api/v1/roles/${role.id}`, { ...v, description: v.description || null })
        : api.post<RoleRow>('/api/v1/roles', { ...v, description: v.description || null }),
    { success: role ? t('roles.updated') : t('roles.created'), invalidate: ['roles'] },
  );
  return (
    <ModalForm<RoleForm>
      title={role ? t('roles.edit_title', { name: role.name }) : t('roles.new')}
      trigger={trigger}
      width={760}
      modalProps={{ destroyOnClose: true }}
      initialValues={
        role
          ? { name: role.name, description: role.description ?? '', permissions: role.permissions }
          : { permissions: [] }
      }
      onFinish={(v) => succeeded(save.mutateAsync({ ...v, permissions: v.permissions ?? [] }))}
    >
      <ProFormText
        name="name"
        label={t('roles.name')}
        rules={[{ required: true }]}
        fieldProps={{ 'data-testid': 'role-name' } as never}
      />
      <ProFormTextArea name="description" label={t('roles.description')} fieldProps={{ rows: 2 }} />
      <PermissionChecks held={held} />
    </ModalForm>
  );
}
