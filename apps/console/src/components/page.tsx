import { PageContainer, type PageContainerProps } from '@ant-design/pro-components';
import { useEffect } from 'react';

/** A console page: the standard page header, and the browser tab titled after it. */
export function Page({ id, title, ...props }: PageContainerProps & { id: string; title: string }) {
  useEffect(() => {
    document.title = `${title} · maas`;
  }, [title]);
  return (
    <div data-page={id}>
      <PageContainer title={title} {...props} />
    </div>
  );
}
